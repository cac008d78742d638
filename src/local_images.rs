//! Image uploads in local mode, shaped like S3 presigned uploads so the storefront and admin tools
//! use one flow everywhere: the catalog hands out a signed URL, the client PUTs the bytes to it.
//!
//! The URL carries an expiry, the content type and the exact length, signed with HMAC-SHA256 under
//! a key from the data dir. The upload route refuses a wrong or missing signature, an expired URL,
//! another content type or another length, as S3 would. Files land in `<data dir>/images/`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use chrono::Utc;
use hmac::{Hmac, Mac};
use nanoshop_api::ApiError;
use nanoshop_catalog::images::{ImageStorage, MAX_IMAGE_BYTES, PresignedUpload};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use sha2::Sha256;

/// What a query value keeps as it is: letters, digits, `-` and `.`; every other byte is `%XX`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.');

/// Signs and accepts local uploads, and knows where they are served from.
#[derive(Clone)]
pub struct LocalImages {
    dir: PathBuf,
    base_url: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for LocalImages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalImages").field("dir", &self.dir).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    expires: i64,
    content_type: String,
    content_length: u64,
    signature: String,
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
}

impl LocalImages {
    pub fn new(dir: PathBuf, base_url: impl Into<String>, key: Vec<u8>) -> Self {
        Self { dir, base_url: base_url.into().trim_end_matches('/').to_owned(), key }
    }

    fn mac(&self, key: &str, expires: i64, content_type: &str, content_length: u64) -> Hmac<Sha256> {
        // `new_from_slice` accepts keys of any length for HMAC.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("{key}\n{expires}\n{content_type}\n{content_length}").as_bytes());
        mac
    }

    /// The upload route (`PUT /dev/uploads/{key}`) and the images route (`GET /images/{key}`).
    /// Mount the upload route outside the 64 KiB API body limit: images are up to 10 MiB.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/dev/uploads/{*key}",
                put(upload).layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(MAX_IMAGE_BYTES).unwrap_or(usize::MAX),
                )),
            )
            .nest_service("/images", tower_http::services::ServeDir::new(&self.dir))
            .with_state(self.clone())
    }
}

async fn upload(
    State(images): State<Arc<LocalImages>>,
    Path(key): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let forbidden = |detail: &str| ApiError::new(StatusCode::FORBIDDEN, "upload_refused", detail).into_response();
    let Ok(signature) = hex::decode(&q.signature) else {
        return forbidden("malformed signature");
    };
    if images.mac(&key, q.expires, &q.content_type, q.content_length).verify_slice(&signature).is_err() {
        return forbidden("the signature does not match");
    }
    if Utc::now().timestamp() > q.expires {
        return forbidden("the upload URL has expired");
    }
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(q.content_type.as_str()) {
        return forbidden("Content-Type differs from the signed one");
    }
    if body.len() as u64 != q.content_length {
        return forbidden("the body length differs from the signed one");
    }
    if !valid_key(&key) {
        return forbidden("invalid key");
    }
    let path = images.dir.join(&key);
    let write = async {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&path, &body).await
    };
    match write.await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[async_trait]
impl ImageStorage for LocalImages {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> anyhow::Result<PresignedUpload> {
        let expires_at = Utc::now() + chrono::Duration::from_std(lifetime)?;
        let expires = expires_at.timestamp();
        let signature = hex::encode(self.mac(key, expires, content_type, content_length).finalize().into_bytes());
        let content_type_q = utf8_percent_encode(content_type, QUERY_VALUE);
        let url = format!(
            "{}/dev/uploads/{key}?expires={expires}&content_type={content_type_q}&content_length={content_length}&signature={signature}",
            self.base_url
        );
        let headers = vec![
            ("content-type".to_owned(), content_type.to_owned()),
            ("content-length".to_owned(), content_length.to_string()),
        ];
        Ok(PresignedUpload { url, method: "PUT", headers, expires_at })
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/images/{key}", self.base_url)
    }
}
