//! S3 requests signed with SigV4 by `aws-sigv4`, without the S3 SDK. The two functions that touch
//! S3 do two small things with it: the catalog presigns one upload, the notifications function
//! reads a few templates at start-up. The whole of `aws-sdk-s3` for that cost the catalog 0.22 MiB
//! and notifications 0.15 MiB of their zipped arm64 packages (issue 19, `docs/benchmarks.md`),
//! while the signer, the credentials and the HTTPS client are linked into every function already,
//! under the SDK's other clients.
//!
//! [`S3`] is the one place that knows how a request to S3 is addressed and signed: the settings
//! read from the SDK's configuration (region, credentials, endpoint override) and the path-style
//! option ([`S3::from_sdk_config`]); the URL of an object, virtual-hosted or path style, with its
//! key encoded as S3 expects ([`url`]); a presigned PUT ([`S3::presign_put`]); a GET signed in its
//! headers ([`S3::signed_get`]). [`read::Reader`] sends such GETs with a bounded body.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::SdkConfig;

pub mod read;
pub mod url;

use url::Addressing;

/// The longest a presigned URL may live: S3 refuses a longer `X-Amz-Expires` (one week).
pub const MAX_PRESIGNED_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Why a request could not be addressed or signed: a configuration problem, never a request's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no AWS region is configured (AWS_REGION)")]
    NoRegion,
    #[error("no AWS credentials provider is configured")]
    NoCredentialsProvider,
    #[error("the S3 endpoint `{0}` is not an http(s) URL")]
    BadEndpoint(String),
    #[error("AWS credentials could not be loaded: {0}")]
    Credentials(String),
    #[error("a presigned URL lives at most {MAX_PRESIGNED_LIFETIME:?}, not {0:?}")]
    Lifetime(Duration),
    #[error("signing the request: {0}")]
    Signing(String),
}

/// How requests to S3 are addressed and signed, from the SDK's configuration.
#[derive(Debug, Clone)]
pub struct S3 {
    addressing: Addressing,
    region: String,
    credentials: SharedCredentialsProvider,
    /// The credentials last given by the provider, kept until [`RENEW_BEFORE_EXPIRY`] before
    /// they expire: the SDK's providers keep no cache of their own (its clients cache in front of
    /// them), and outside Lambda asking one is a request (to the container's credentials endpoint,
    /// IMDS, or STS for web identity), which each signed request would otherwise make.
    cached: Arc<Mutex<Option<Credentials>>>,
}

/// How long before their expiry cached credentials are asked for again, as the SDK's own identity
/// cache does by default: a request signed with them must still reach S3 before they expire, and
/// a presigned URL is only as good as them.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// A request the holder of the URL may make once, until it expires: the URL carries the
/// signature, and `headers` must be sent exactly as given, since they are signed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl S3 {
    /// S3 as the SDK's clients would reach it from `config`: its region, its credentials provider
    /// (asked again when the credentials it gave are within [`RENEW_BEFORE_EXPIRY`] of expiring),
    /// and the endpoint override the S3 client would use (`AWS_ENDPOINT_URL_S3`, else
    /// `AWS_ENDPOINT_URL`, or their profile settings). `force_path_style` puts the bucket in the
    /// path (`endpoint/bucket/key`), as local S3 servers need; otherwise it is in the host name.
    ///
    /// # Errors
    /// No region or credentials provider is configured, or the endpoint override is not a URL.
    pub fn from_sdk_config(config: &SdkConfig, force_path_style: bool) -> Result<Self, Error> {
        let region = config.region().ok_or(Error::NoRegion)?.as_ref().to_owned();
        let credentials = config.credentials_provider().ok_or(Error::NoCredentialsProvider)?;
        // The S3 client's own rule (aws-sdk-s3's `Builder::from(&SdkConfig)`): the service's
        // variable or profile setting first, then the one for every service.
        let endpoint = config
            .service_config()
            .and_then(|c| c.load_config(endpoint_key()))
            .or_else(|| config.endpoint_url().map(str::to_owned));
        let addressing = Addressing::new(&region, endpoint.as_deref(), force_path_style)?;
        Ok(Self { addressing, region, credentials, cached: Arc::default() })
    }

    /// The URL of `key` in `bucket` (see [`url::Addressing::object_url`]).
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        self.addressing.object_url(bucket, key)
    }

    /// A URL that accepts one PUT of `key` with exactly `content_type` and `content_length`
    /// (both signed headers, so S3 refuses any other), for `lifetime`. The body is not signed
    /// (`UNSIGNED-PAYLOAD`): it is the uploader's, unknown here.
    ///
    /// # Errors
    /// The credentials could not be loaded, or `lifetime` is longer than S3 accepts.
    pub async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> Result<Presigned, Error> {
        let identity = self.identity().await?;
        self.presign_put_at(&identity, SystemTime::now(), bucket, key, content_type, content_length, lifetime)
    }

    #[allow(clippy::too_many_arguments)]
    fn presign_put_at(
        &self,
        identity: &Identity,
        time: SystemTime,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> Result<Presigned, Error> {
        if lifetime > MAX_PRESIGNED_LIFETIME {
            return Err(Error::Lifetime(lifetime));
        }
        let length = content_length.to_string();
        let headers = [("content-type", content_type), ("content-length", length.as_str())];
        let url = self.object_url(bucket, key);
        let mut settings = s3_settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(lifetime);
        let request = self.sign(identity, time, settings, "PUT", &url, &headers, SignableBody::UnsignedPayload)?;
        let headers = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Ok(Presigned { url: request.uri().to_string(), headers })
    }

    /// A GET of `key` in `bucket`, signed in its headers (`Authorization`, `x-amz-date`,
    /// `x-amz-content-sha256`, and the session token when there is one), ready to send.
    ///
    /// # Errors
    /// The credentials could not be loaded.
    pub async fn signed_get(&self, bucket: &str, key: &str) -> Result<http::Request<()>, Error> {
        let identity = self.identity().await?;
        let url = self.object_url(bucket, key);
        let mut settings = s3_settings();
        // S3 wants the payload's hash in a header of its own; a GET's payload is empty.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        self.sign(&identity, SystemTime::now(), settings, "GET", &url, &[], SignableBody::Bytes(&[]))
    }

    /// The cached credentials while they last (the field `cached`), else the provider's, kept.
    /// Two requests that find none both ask the provider; the later answer is kept.
    async fn identity(&self) -> Result<Identity, Error> {
        let fresh = |c: &Credentials| {
            c.expiry().is_none_or(|expiry| {
                expiry.duration_since(SystemTime::now()).is_ok_and(|left| left > RENEW_BEFORE_EXPIRY)
            })
        };
        let cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let credentials = match cached.filter(fresh) {
            Some(credentials) => credentials,
            None => {
                let credentials =
                    self.credentials.provide_credentials().await.map_err(|e| Error::Credentials(error_chain(&e)))?;
                *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = Some(credentials.clone());
                credentials
            }
        };
        Ok(credentials.into())
    }

    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        identity: &Identity,
        time: SystemTime,
        settings: SigningSettings,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: SignableBody<'_>,
    ) -> Result<http::Request<()>, Error> {
        let signing = |e: &dyn std::error::Error| Error::Signing(error_chain(e));
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let signable = SignableRequest::new(method, url, headers.iter().copied(), body).map_err(|e| signing(&e))?;
        let (instructions, _signature) = sign(signable, &params).map_err(|e| signing(&e))?.into_parts();
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).map_err(|e| signing(&e))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// S3's rules for the canonical request, unlike other services': the path as sent (its key
/// encoded once, not twice) and never normalised (`a/./b` and `a//b` are keys of their own).
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

fn endpoint_key() -> aws_types::service_config::ServiceConfigKey<'static> {
    aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field is set")
}

/// An error with its causes, `: `-separated, as one log field.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
