//! Extractors whose rejections are problem+json with stable codes, instead of axum's plain-text
//! ones, plus the pieces of the list and concurrency conventions in `docs/api.md`.
//!
//! | Rejection | Status | `code` |
//! | --- | --- | --- |
//! | body not sent as JSON | 415 | `unsupported_media_type` |
//! | body is not JSON | 400 | `malformed_json` |
//! | JSON of the wrong shape | 422 | `invalid_body` |
//! | body over 64 KiB | 413 | `payload_too_large` |
//! | query string of the wrong shape | 400 | `invalid_query` |
//! | `If-Match` not a version | 400 | `invalid_if_match` |
//! | `limit` outside 1–100 | 400 | `invalid_limit` |

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Request bodies larger than this are refused with 413 `payload_too_large` (`docs/api.md`):
/// by [`Json`] here, and before any handler runs by
/// [`with_common_layers`](crate::with_common_layers).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The 413 for a body over [`MAX_BODY_BYTES`], however it was found out.
pub(crate) fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request bodies are limited to {} KiB", MAX_BODY_BYTES / 1024),
    )
}

/// A JSON request body or response.
///
/// As an extractor it needs `Content-Type: application/json` (or `+json`) and a body within the
/// 64 KiB limit; a `#[serde(deny_unknown_fields)]` on `T` turns unknown fields into a 422 too.
/// As a response it serialises `T`; should that fail, the client gets the opaque 500, not
/// serde's message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await.map_err(json_rejection)?;
        // Read again from the whole-number form, so serde's errors still name the field's path.
        let bytes = serde_json::to_vec(&whole_numbers(value)).map_err(ApiError::internal)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `value` with every whole-number float (`27.0`) an integer: JSON has one number type, and JSON
/// Schema's `integer` (what the OpenAPI document says of counts and amounts) admits `27.0`, which
/// serde would refuse for an integer field.
fn whole_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            // The casts are exact: a whole number strictly within the range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(f) if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) => Value::from(f as u64),
            #[allow(clippy::cast_possible_truncation)]
            Some(f) if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..0.0).contains(&f) => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, whole_numbers(v))).collect()),
        other => other,
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON, with `Content-Type: application/json`",
        ),
        // The inner error is serde's, prefixed by the path of the offending field
        // (`items[0].quantity: invalid type ...`): exactly what a client needs to fix its request.
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", inner_message(&e)),
        JsonRejection::JsonDataError(e) => ApiError::unprocessable("invalid_body", inner_message(&e)),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        other => ApiError::new(other.status(), "unreadable_body", "the request body could not be read"),
    }
}

/// The message of what axum wrapped, without axum's generic prefix.
fn inner_message(e: &dyn std::error::Error) -> String {
    e.source().map_or_else(|| e.to_string(), ToString::to_string)
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response(),
            Err(err) => ApiError::internal(err).into_response(),
        }
    }
}

/// The query string deserialised into `T`; 400 `invalid_query` saying what is wrong otherwise.
/// Fields `T` does not name are ignored, so several `Query`s (and [`Pagination`]) can share one
/// query string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(&parts.uri).map(Self)
    }
}

fn parse_query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    if !uri.query().is_none_or(percent_decodes_to_utf8) {
        return Err(ApiError::bad_request("invalid_query", "the query string does not decode to UTF-8"));
    }
    axum::extract::Query::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|rejection| ApiError::bad_request("invalid_query", inner_message(&rejection)))
}

/// Whether `query` percent-decodes to UTF-8. Under axum's `Query`, `form_urlencoded` replaces
/// bytes that are not UTF-8 with U+FFFD and goes on (searching for `??`, say); a client that sends
/// them has a bug worth a 400. (`+` and the `&`/`=` separators are ASCII: they cannot change the
/// answer, so the whole query is checked at once.)
fn percent_decodes_to_utf8(query: &str) -> bool {
    percent_encoding::percent_decode_str(query).decode_utf8().is_ok()
}

/// The version a client last saw, from `If-Match`; `None` when there is no precondition.
///
/// Accepts `"3"` (the `ETag` nanoshop sends), `3`, and the weak `W/"3"`: proxies and CDNs weaken
/// ETags when they re-encode a response, and refusing those would lock such clients out. `*`
/// ("any current version") is the same as no precondition for a resource that exists. Anything
/// else, a list of several tags included, is a 400 `invalid_if_match`: guessing would risk a
/// lost update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// `Ok` when there is no precondition or it names `current`; 412 `version_conflict` otherwise.
    ///
    /// # Errors
    /// When the client's version is stale.
    pub fn check(self, current: u64) -> Result<(), ApiError> {
        match self.0 {
            Some(version) if version != current => Err(ApiError::precondition_failed()),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(header::IF_MATCH).iter();
        let Some(value) = values.next() else {
            return Ok(Self(None));
        };
        let parsed = match values.next() {
            Some(_) => None,
            None => value.to_str().ok().and_then(parse_if_match),
        };
        parsed.map(Self).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_if_match",
                "`If-Match` must be one version, as sent in `ETag` (e.g. `\"3\"`)",
            )
        })
    }
}

/// `Some(precondition)` for an acceptable header value, `None` for a malformed one.
fn parse_if_match(value: &str) -> Option<Option<u64>> {
    let value = value.trim();
    if value == "*" {
        return Some(None);
    }
    let value = value.strip_prefix("W/").unwrap_or(value);
    let digits = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    // `u64::from_str` also takes a leading `+`; a version is digits only.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Some)
}

/// The `ETag` header for a resource at `version`: `ETag: "3"`, which [`IfMatch`] reads back.
pub fn etag(version: u64) -> (HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are valid header bytes");
    (header::ETAG, value)
}

/// `?limit=` and `?cursor=` of a list request.
///
/// `limit` defaults to [`DEFAULT_LIMIT`](Self::DEFAULT_LIMIT) and must be within
/// 1..=[`MAX_LIMIT`](Self::MAX_LIMIT) (400 `invalid_limit` otherwise): clamping silently would
/// hide a client bug. The cursor is passed through as sent (an empty one is no cursor); decode it
/// with [`CursorCodec`](crate::CursorCodec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl Pagination {
    pub const DEFAULT_LIMIT: usize = 20;
    pub const MAX_LIMIT: usize = 100;
}

impl Default for Pagination {
    fn default() -> Self {
        Self { limit: Self::DEFAULT_LIMIT, cursor: None }
    }
}

/// The paging query parameters of a list, as the OpenAPI document describes them.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PaginationQuery {
    /// 1 to 100; 20 when left out.
    #[schemars(with = "Option<u8>", range(min = 1, max = 100))]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw: PaginationQuery = parse_query(&parts.uri)?;
        let limit = match raw.limit {
            None => Self::DEFAULT_LIMIT,
            Some(limit) => limit.parse().ok().filter(|l| (1..=Self::MAX_LIMIT).contains(l)).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_limit",
                    format!("`limit` must be a whole number from 1 to {}", Self::MAX_LIMIT),
                )
            })?,
        };
        Ok(Self { limit, cursor: raw.cursor.filter(|c| !c.is_empty()) })
    }
}

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`; `next_cursor` is `null`
/// on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "PageOf{T}")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tests::{parts, problem};
    use axum::Router;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{get, post};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    #[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct AddItem {
        sku: String,
        quantity: u32,
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    struct Filter {
        q: Option<String>,
        #[serde(default)]
        page_size_hint: u8,
    }

    fn app() -> Router {
        Router::new()
            .route("/items", post(|Json(item): Json<AddItem>| async move { Json(item) }))
            .route(
                "/search",
                get(|Query(f): Query<Filter>, p: Pagination| async move {
                    Json(json!({
                        "q": f.q, "hint": f.page_size_hint, "limit": p.limit, "cursor": p.cursor,
                    }))
                }),
            )
            .route("/versioned", get(|IfMatch(v): IfMatch| async move { Json(v) }))
            .layer(DefaultBodyLimit::max(1024))
    }

    async fn send(request: http::Request<Body>) -> Response {
        app().oneshot(request).await.unwrap()
    }

    fn post_items(content_type: Option<&str>, body: impl Into<Body>) -> http::Request<Body> {
        let mut request = http::Request::post("/items");
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        request.body(body.into()).unwrap()
    }

    fn get_request(uri: &str) -> http::Request<Body> {
        http::Request::get(uri).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn a_valid_body_round_trips_as_json() {
        let (status, headers, body) =
            parts(send(post_items(Some("application/json"), r#"{"sku":"LS-S","quantity":2}"#)).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, json!({"sku": "LS-S", "quantity": 2}));
    }

    #[tokio::test]
    async fn a_body_without_a_json_content_type_is_415() {
        for ct in [None, Some("text/plain")] {
            let response = send(post_items(ct, r#"{"sku":"a","quantity":1}"#)).await;
            problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
        }
    }

    #[tokio::test]
    async fn broken_json_is_400_malformed_json() {
        let response = send(post_items(Some("application/json"), r#"{"sku":"#)).await;
        let body = problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
        assert!(body["detail"].as_str().unwrap().contains("EOF"), "{body}");
    }

    #[tokio::test]
    async fn json_of_the_wrong_shape_is_422_naming_the_field() {
        for (sent, expected) in [
            (r#"{"sku":"a","quantity":"two"}"#, "quantity: invalid type"),
            (r#"{"sku":"a"}"#, "missing field `quantity`"),
            (r#"{"sku":"a","quantity":1,"price":1}"#, "unknown field `price`"),
        ] {
            let response = send(post_items(Some("application/json"), sent)).await;
            let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains(expected), "{sent}: {detail}");
            assert!(!detail.contains("Failed to deserialize"), "{detail}");
        }
    }

    #[tokio::test]
    async fn a_whole_number_float_reads_as_an_integer_and_a_fraction_does_not() {
        let (status, _, body) =
            parts(send(post_items(Some("application/json"), r#"{"sku":"LS-S","quantity":27.0}"#)).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"sku": "LS-S", "quantity": 27}));
        for sent in [r#"{"sku":"a","quantity":27.5}"#, r#"{"sku":"a","quantity":-1.0}"#] {
            let response = send(post_items(Some("application/json"), sent)).await;
            let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
            assert!(body["detail"].as_str().unwrap().starts_with("quantity: invalid"), "{sent}: {body}");
        }
    }

    #[tokio::test]
    async fn a_body_over_the_extractor_limit_is_413() {
        let big = format!(r#"{{"sku":"{}","quantity":1}}"#, "a".repeat(2000));
        let response = send(post_items(Some("application/json"), big)).await;
        problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }

    #[tokio::test]
    async fn queries_and_pagination_share_the_query_string() {
        let (status, _, body) =
            parts(send(get_request("/search?q=shirt&limit=100&cursor=abc&page_size_hint=3")).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"q": "shirt", "hint": 3, "limit": 100, "cursor": "abc"}));

        let (_, _, body) = parts(send(get_request("/search?cursor=")).await).await;
        assert_eq!(body, json!({"q": null, "hint": 0, "limit": 20, "cursor": null}));
    }

    #[tokio::test]
    async fn a_query_of_the_wrong_shape_is_400_invalid_query() {
        let body =
            problem(send(get_request("/search?page_size_hint=999")).await, StatusCode::BAD_REQUEST, "invalid_query")
                .await;
        assert!(body["detail"].as_str().unwrap().contains("page_size_hint"), "{body}");
    }

    #[tokio::test]
    async fn a_query_that_does_not_decode_to_utf8_is_400_invalid_query() {
        for query in ["q=%ff%fe", "q=caf%e9", "limit=10&q=%c3", "q=%C3%28"] {
            problem(send(get_request(&format!("/search?{query}"))).await, StatusCode::BAD_REQUEST, "invalid_query")
                .await;
        }
        // Escaped UTF-8, a lone `%` and a `%` before non-hex digits are all fine.
        for (query, q) in [("q=caf%C3%A9", "café"), ("q=100%", "100%"), ("q=%zz", "%zz"), ("q=%+1", "% 1")] {
            let (status, _, body) = parts(send(get_request(&format!("/search?{query}"))).await).await;
            assert_eq!((status, body["q"].as_str()), (StatusCode::OK, Some(q)), "{query}");
        }
    }

    #[tokio::test]
    async fn a_limit_outside_1_to_100_is_400_invalid_limit() {
        for limit in ["0", "101", "-1", "ten", "", "1.5"] {
            let response = send(get_request(&format!("/search?limit={limit}"))).await;
            problem(response, StatusCode::BAD_REQUEST, "invalid_limit").await;
        }
    }

    #[test]
    fn if_match_accepts_versions_as_etag_writes_them() {
        let check = |value: &str, expected: Option<Option<u64>>| {
            assert_eq!(parse_if_match(value), expected, "{value:?}");
        };
        check("\"3\"", Some(Some(3)));
        check("3", Some(Some(3)));
        check("W/\"3\"", Some(Some(3)));
        check(" \"42\" ", Some(Some(42)));
        check("*", Some(None));
        check("\"3", None);
        check("\"\"", None);
        check("+3", None);
        check("\"-3\"", None);
        check("\"3\", \"4\"", None);
        check("\"abc\"", None);
        check("99999999999999999999999", None);

        let (name, value) = etag(7);
        assert_eq!(name, header::ETAG);
        assert_eq!(parse_if_match(value.to_str().unwrap()), Some(Some(7)));
    }

    #[tokio::test]
    async fn the_if_match_extractor_reads_absent_present_and_rejects_garbage() {
        let (_, _, body) = parts(send(get_request("/versioned")).await).await;
        assert_eq!(body, Value::Null);

        let request = http::Request::get("/versioned").header(header::IF_MATCH, "\"5\"").body(Body::empty()).unwrap();
        let (_, _, body) = parts(send(request).await).await;
        assert_eq!(body, json!(5));

        let request = http::Request::get("/versioned")
            .header(header::IF_MATCH, "\"5\"")
            .header(header::IF_MATCH, "\"6\"")
            .body(Body::empty())
            .unwrap();
        problem(send(request).await, StatusCode::BAD_REQUEST, "invalid_if_match").await;
    }

    #[tokio::test]
    async fn a_stale_if_match_is_412_version_conflict() {
        assert!(IfMatch(None).check(4).is_ok());
        assert!(IfMatch(Some(4)).check(4).is_ok());
        let err = IfMatch(Some(3)).check(4).unwrap_err();
        problem(err.into_response(), StatusCode::PRECONDITION_FAILED, "version_conflict").await;
    }

    #[test]
    fn a_page_serialises_as_the_list_envelope() {
        let last = Page { items: vec![1, 2], next_cursor: None };
        assert_eq!(serde_json::to_value(last).unwrap(), json!({"items": [1, 2], "next_cursor": null}));
    }
}
