//! Fetching the identity provider's documents (its OpenID discovery document and key set):
//! HTTPS only (plain HTTP on the loopback interface alone, for tests and local providers), a
//! bounded time and a bounded size, redirects not followed.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use http::header::ACCEPT;
use http::{Request, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::de::DeserializeOwned;

/// The longest a fetch may take, connection and body included: a request waiting on it waits
/// this long at most.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Larger documents are refused. Real key sets are a few KiB (Entra ID's, the largest, ~10 KiB).
pub(super) const MAX_DOCUMENT_LEN: usize = 256 * 1024;

/// An HTTP(S) client for the provider's documents.
pub(super) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Fetcher {
    /// # Errors
    /// If the TLS configuration cannot be built (it always can with the bundled roots).
    pub(super) fn new() -> anyhow::Result<Self> {
        Ok(Self { client: crate::https_client(Some(FETCH_TIMEOUT))? })
    }

    /// The JSON document at `uri`.
    ///
    /// # Errors
    /// If `uri` is not [`allowed`], the answer is not a 200 within [`FETCH_TIMEOUT`], is larger
    /// than [`MAX_DOCUMENT_LEN`], or is not a `T`.
    pub(super) async fn json<T: DeserializeOwned>(&self, uri: &Uri) -> anyhow::Result<T> {
        allowed(uri)?;
        let request = Request::get(uri.clone()).header(ACCEPT, "application/json").body(Empty::new())?;
        let body = async {
            let response = self.client.request(request).await?;
            if !response.status().is_success() {
                bail!("{uri} answered {}", response.status());
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_LEN).collect().await;
            Ok(body.map_err(|e| anyhow!("reading {uri}: {e}"))?.to_bytes())
        };
        let body = tokio::time::timeout(FETCH_TIMEOUT, body)
            .await
            .map_err(|_| anyhow!("{uri} did not answer within {FETCH_TIMEOUT:?}"))??;
        serde_json::from_slice(&body).with_context(|| format!("{uri} did not send the expected JSON document"))
    }
}

/// Whether we may fetch keys from `uri`: over HTTPS, or plain HTTP to the loopback interface
/// only, so no one on the network path can substitute keys.
///
/// # Errors
/// Saying why not.
pub(super) fn allowed(uri: &Uri) -> anyhow::Result<()> {
    let host = uri.host().unwrap_or("");
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => Ok(()),
        _ => bail!("`{uri}` is not an https URL (plain http is allowed to the loopback interface only)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        for ok in ["https://idp.example/jwks", "http://127.0.0.1:9000/jwks", "http://localhost/x", "http://[::1]:1/"] {
            assert!(allowed(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for refused in ["http://idp.example/jwks", "http://10.0.0.1/jwks", "ftp://idp.example/", "/jwks"] {
            assert!(allowed(&refused.parse().unwrap()).is_err(), "{refused}");
        }
    }
}
