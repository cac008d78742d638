//! JSON merge patches (RFC 7396) of the catalog's editable documents: the body of every `PATCH`.

use axum::extract::{FromRequest, Request};
use nanoshop_api::{ApiError, Json, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A `PATCH` body: a JSON object, refused with 422 `invalid_body` otherwise.
#[derive(Debug, Clone)]
pub struct MergePatch(Value);

impl<S: Send + Sync> FromRequest<S> for MergePatch {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let Json(patch) = Json::<Value>::from_request(request, state).await?;
        if !patch.is_object() {
            return Err(ApiError::unprocessable("invalid_body", "a merge patch must be a JSON object"));
        }
        Ok(Self(patch))
    }
}

impl schemars::JsonSchema for MergePatch {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MergePatch".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "A JSON merge patch (RFC 7396) of the resource's body: the fields to change, `null` to clear one."
        })
    }
}

impl MergePatch {
    /// `current` with this patch merged in, read back as the same body type, so the patched
    /// document passes exactly the checks a created one does.
    ///
    /// # Errors
    /// 422 `invalid_body` naming `what` when the patched document is not a valid body.
    pub fn apply<T: Serialize + DeserializeOwned>(&self, current: &T, what: &str) -> Result<T> {
        let mut document = serde_json::to_value(current).map_err(ApiError::internal)?;
        merge(&mut document, &self.0);
        serde_json::from_value(document)
            .map_err(|e| ApiError::unprocessable("invalid_body", format!("the patched {what} is not valid: {e}")))
    }
}

/// RFC 7396: objects merge key by key, `null` deletes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}
