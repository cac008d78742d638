//! Reading small objects: a signed GET over the HTTPS client the caller gives (in nanoshop,
//! `nanoshop_api::https_client`), its body read no further than a cap. Plain HTTP is only ever
//! sent to an endpoint override that says `http` (a local S3 server): URLs are made from the
//! configuration alone ([`crate::url`]), and AWS's are always `https`.

use std::fmt;

use http_body_util::{BodyExt as _, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{Error, S3, error_chain};

/// How much of an error answer is read for its `<Code>`: S3's are a few hundred bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Why an object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Signing(#[from] Error),
    #[error("S3 answered {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status { status: u16, code: Option<String> },
    #[error("{0}")]
    Transport(String),
    /// Larger than the cap: `size` when S3 said how large, otherwise the body went past the cap
    /// and was not read further.
    #[error("{}", size.map(|s| format!("{s} bytes")).unwrap_or_else(|| "larger than allowed".into()))]
    TooLarge { size: Option<u64> },
}

/// Sends signed GETs for [`S3`].
pub struct Reader {
    s3: S3,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").field("s3", &self.s3).finish_non_exhaustive()
    }
}

impl Reader {
    /// GETs signed by `s3`, sent by `client` (`nanoshop_api::https_client`, the workspace's one
    /// HTTPS configuration).
    pub fn new(s3: S3, client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>) -> Self {
        Self { s3, client }
    }

    /// The bytes of `key` in `bucket`, at most `max_len` of them; `None` when there is no such
    /// key (404 `NoSuchKey`; S3 answers so only to a reader allowed to list the bucket, and 403
    /// to others). The caller bounds the time: this waits as long as S3 does.
    ///
    /// # Errors
    /// Any other answer (a missing bucket is 404 `NoSuchBucket`), a transport failure, or a body
    /// over `max_len`.
    pub async fn get(&self, bucket: &str, key: &str, max_len: usize) -> Result<Option<Bytes>, ReadError> {
        let request = self.s3.signed_get(bucket, key).await?.map(|()| Empty::new());
        let response = self.client.request(request).await.map_err(|e| ReadError::Transport(error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let body = Limited::new(response.into_body(), MAX_ERROR_BODY).collect().await;
            let code = body.ok().and_then(|b| error_code(&b.to_bytes()));
            if status == http::StatusCode::NOT_FOUND && code.as_deref() == Some("NoSuchKey") {
                return Ok(None);
            }
            return Err(ReadError::Status { status: status.as_u16(), code });
        }
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(size) = declared.filter(|s| usize::try_from(*s).map_or(true, |s| s > max_len)) {
            return Err(ReadError::TooLarge { size: Some(size) });
        }
        match Limited::new(response.into_body(), max_len).collect().await {
            Ok(body) => Ok(Some(body.to_bytes())),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ReadError::TooLarge { size: None }),
            Err(e) => Err(ReadError::Transport(error_chain(e.as_ref()))),
        }
    }
}

/// The `<Code>` of an S3 error document (`<Error><Code>NoSuchKey</Code>…`).
fn error_code(body: &[u8]) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let start = body.find("<Code>")? + "<Code>".len();
    let end = start + body[start..].find("</Code>")?;
    Some(body[start..end].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::error_code;

    #[test]
    fn an_error_document_gives_its_code_and_anything_else_none() {
        let doc = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key</Message></Error>";
        assert_eq!(error_code(doc).as_deref(), Some("NoSuchKey"));
        assert_eq!(error_code(b"<Error><Code>NoSuchBucket</Code></Error>").as_deref(), Some("NoSuchBucket"));
        assert_eq!(error_code(b"not found"), None);
        assert_eq!(error_code(b""), None);
    }
}
