//! The one HTTPS client configuration of nanoshop's own outbound calls (the identity provider's
//! documents, S3 reads, `nanoshop import --api`, and in a Lambda build the AWS SDK's clients,
//! [`crate::sdk_http`]): hyper over rustls on aws-lc-rs, the tree's one crypto library, trusting
//! the bundled Mozilla roots, HTTP/1.1. Plain `http` URLs are sent as such, so each caller decides
//! which URLs it accepts (`auth::fetch::allowed`, `nanoshop_s3`'s URLs made from the configuration
//! alone).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;

/// The client, with request bodies of type `B`; `connect_timeout` bounds each TCP connect.
///
/// # Errors
/// The TLS configuration cannot be built (it always can with the bundled roots).
pub fn https_client<B>(connect_timeout: Option<Duration>) -> anyhow::Result<Client<HttpsConnector<HttpConnector>, B>>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    Ok(Client::builder(TokioExecutor::new()).build(https_connector(tls_config()?, connect_timeout)))
}

/// The TLS configuration of every client: aws-lc-rs, its safe default protocol versions, the
/// bundled Mozilla roots, no client certificate.
///
/// # Errors
/// The provider supports none of the protocol versions (aws-lc-rs supports them all).
pub(crate) fn tls_config() -> anyhow::Result<ClientConfig> {
    Ok(ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .context("the TLS client configuration")?
        .with_webpki_roots()
        .with_no_client_auth())
}

/// The connector of every client: TCP (the scheme is the URL's own; `https` ones get TLS), no
/// Nagle delay, `connect_timeout` on each TCP connect.
pub(crate) fn https_connector(tls: ClientConfig, connect_timeout: Option<Duration>) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // Requests are written whole, in one go: nothing gains by waiting to fill a segment.
    http.set_nodelay(true);
    http.set_connect_timeout(connect_timeout);
    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(http)
}
