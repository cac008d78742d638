//! Image uploads: the catalog never receives image bytes. It hands the client a presigned URL that
//! lets it PUT exactly one object, of the declared type and length, before the URL expires; the
//! storage (S3 in AWS) enforces all three through the signature.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Image types a product may show. SVG is left out on purpose: it can carry scripts.
pub const ALLOWED_CONTENT_TYPES: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("image/gif", "gif"),
    ("image/avif", "avif"),
];
/// The largest image accepted: 10 MiB.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// How long an upload URL stays valid.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A request the client must make to upload the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    pub method: &'static str,
    /// Headers the client must send exactly as given; they are part of the signature.
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// Where product images live.
#[async_trait]
pub trait ImageStorage: Send + Sync + std::fmt::Debug {
    /// A URL that accepts one PUT of `content_length` bytes of `content_type` to `key`.
    ///
    /// # Errors
    /// The storage could not sign the request (misconfiguration).
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> anyhow::Result<PresignedUpload>;

    /// The URL clients fetch the image from.
    fn public_url(&self, key: &str) -> String;
}

/// Images in a private S3 bucket, served through `public_base` (a CloudFront distribution, or
/// any URL prefix that maps to the bucket). Uploads are presigned by `nanoshop_s3` (SigV4 in the
/// query string, with the SDK provider's credentials, asked again before they expire).
#[derive(Debug, Clone)]
pub struct S3Images {
    s3: nanoshop_s3::S3,
    bucket: String,
    public_base: String,
}

impl S3Images {
    pub fn new(s3: nanoshop_s3::S3, bucket: impl Into<String>, public_base: impl Into<String>) -> Self {
        Self { s3, bucket: bucket.into(), public_base: public_base.into().trim_end_matches('/').to_owned() }
    }
}

#[async_trait]
impl ImageStorage for S3Images {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> anyhow::Result<PresignedUpload> {
        let request = self.s3.presign_put(&self.bucket, key, content_type, content_length, lifetime).await?;
        let expires_at = Utc::now() + chrono::Duration::from_std(lifetime)?;
        Ok(PresignedUpload { url: request.url, method: "PUT", headers: request.headers, expires_at })
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }
}
