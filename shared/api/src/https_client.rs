//! The one HTTPS client configuration of nanoshop's own outbound calls (the identity provider's
//! documents, S3 reads, `nanoshop import --api`): hyper over rustls on aws-lc-rs, the tree's one
//! crypto library, trusting the bundled Mozilla roots, HTTP/1.1. Plain `http` URLs are sent as
//! such, so each caller decides which URLs it accepts (`auth::fetch::allowed`, `nanoshop_s3`'s URLs
//! made from the configuration alone).

use std::time::Duration;

use anyhow::Context as _;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The client, with request bodies of type `B`; `connect_timeout` bounds each TCP connect.
///
/// # Errors
/// The TLS configuration cannot be built (it always can with the bundled roots).
pub fn https_client<B>(connect_timeout: Option<Duration>) -> anyhow::Result<Client<HttpsConnector<HttpConnector>, B>>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let mut http = HttpConnector::new();
    // The scheme is the URL's own; the connector below speaks TLS to `https` ones.
    http.enforce_http(false);
    http.set_connect_timeout(connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
        .context("the TLS client configuration")?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}
