use std::time::Duration;

use async_std::task::sleep;
use http_types::{Body, Request, StatusCode};
use miniserde::json::from_str;
use stripe_client_core::{
    CustomizedStripeRequest, Outcome, RequestBuilder, RequestStrategy, StripeMethod,
};
use stripe_shared::AccountId;

use crate::StripeError;
use crate::async_std::ClientBuilder;
use crate::async_std::config::ClientConfig;

/// A client for making Stripe API requests.
#[derive(Clone, Debug)]
pub struct Client {
    client: surf::Client,
    config: ClientConfig,
}

impl Client {
    /// Construct a `client` with the given secret key and a default configuration.
    ///
    /// # Panics
    /// This method panics if secret key is not usable as a header value.
    pub fn new(secret_key: impl Into<String>) -> Self {
        ClientBuilder::new(secret_key).build().expect("invalid secret provided")
    }

    pub(crate) fn from_config(config: ClientConfig) -> Self {
        Self { client: surf::Client::new(), config }
    }

    fn create_request(
        &self,
        req_builder: RequestBuilder,
        account_id: Option<AccountId>,
    ) -> Request {
        let mut url = self.config.api_base.clone();
        url.set_path(&format!("v1/{}", req_builder.path.trim_start_matches('/')));
        if let Some(query) = &req_builder.query {
            url.set_query(Some(query));
        }

        let mut req = Request::new(conv_stripe_method(req_builder.method), url);
        if let Some(body) = req_builder.body {
            req.set_body(Body::from_string(body));
            req.insert_header("content-type", "application/x-www-form-urlencoded");
        }

        req.insert_header("authorization", format!("Bearer {}", self.config.secret));

        for (key, value) in
            self.config.to_headers_array().iter().filter_map(|(k, v)| v.map(|v| (*k, v)))
        {
            req.insert_header(key, value);
        }

        // If an account id is specified, it should override the default configuration
        if let Some(acct_id) = account_id {
            req.insert_header("Stripe-Account", acct_id.as_str());
        }

        req
    }

    #[tracing::instrument(skip(self, request), fields(strategy = ?strategy, retry_count))]
    async fn send_inner(
        &self,
        mut request: Request,
        strategy: RequestStrategy,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, StripeError> {
        let mut tries = 0;
        let mut last_status: Option<StatusCode> = None;
        let mut last_retry_header: Option<bool> = None;

        // if we have no last error, then the strategy is invalid
        let mut last_error = StripeError::ClientError("Invalid strategy".to_string());

        if let Some(key) = strategy.get_key() {
            request.insert_header("idempotency-key", key.as_str());
            tracing::debug!("using idempotency key");
        }

        let body = request.body_bytes().await?;

        loop {
            tracing::Span::current().record("retry_count", tries);

            return match strategy.test(last_status.map(|s| s.into()), last_retry_header, tries) {
                Outcome::Stop => {
                    tracing::warn!("request failed after {} attempts", tries);
                    Err(last_error)
                }
                Outcome::Continue(duration) => {
                    if let Some(duration) = duration {
                        tracing::debug!("backing off for {:?}", duration);
                        sleep(duration).await;
                    }

                    // we need to clone the request before sending it so we can
                    // re-use it if we need to retry. ditto for the body
                    let mut request = request.clone();
                    request.set_body(body.clone());

                    tracing::debug!("sending request (attempt {})", tries + 1);
                    let attempt = async {
                        let mut response = self.client.send(request).await?;
                        let status = response.status();
                        let retry = response
                            .header("Stripe-Should-Retry")
                            .and_then(|s| s.last().as_str().parse().ok());
                        let bytes = response.body_bytes().await?;
                        Ok::<_, StripeError>((status, retry, bytes))
                    };
                    let attempt_result = match timeout {
                        Some(t) => async_std::future::timeout(t, attempt)
                            .await
                            .unwrap_or_else(|_| Err(StripeError::Timeout)),
                        None => attempt.await,
                    };
                    let (status, retry, bytes) = match attempt_result {
                        Ok(parts) => parts,
                        Err(err) => {
                            tracing::warn!("request failed: {}", err);
                            last_error = err;
                            tries += 1;
                            continue;
                        }
                    };

                    if !status.is_success() {
                        tries += 1;
                        tracing::warn!("request returned error status: {}", status);
                        let str = std::str::from_utf8(bytes.as_ref()).map_err(|_| {
                            StripeError::JSONDeserialize("Response was not valid UTF-8".into())
                        })?;
                        last_error = from_str(str)
                            .map(|e: crate::error::ErrorBody| {
                                StripeError::Stripe(e.error, status.into())
                            })
                            .unwrap_or_else(|_| {
                                StripeError::JSONDeserialize(
                                    "error deserializing Stripe error".into(),
                                )
                            });
                        last_status = Some(status);
                        last_retry_header = retry;

                        continue;
                    }

                    tracing::debug!("request successful");
                    Ok(bytes)
                }
            };
        }
    }
}

fn conv_stripe_method(method: StripeMethod) -> http_types::Method {
    match method {
        StripeMethod::Get => http_types::Method::Get,
        StripeMethod::Post => http_types::Method::Post,
        StripeMethod::Delete => http_types::Method::Delete,
    }
}

impl stripe_client_core::StripeClient for Client {
    type Err = StripeError;

    #[tracing::instrument(skip(self, req_full), fields(method, path))]
    async fn execute(&self, req_full: CustomizedStripeRequest) -> Result<bytes::Bytes, Self::Err> {
        let (req, config) = req_full.into_pieces();

        tracing::Span::current().record("method", tracing::field::debug(&req.method));
        tracing::Span::current().record("path", &req.path);

        let request_strategy =
            config.request_strategy.unwrap_or_else(|| self.config.request_strategy.clone());
        let timeout = config.timeout.or(self.config.timeout);
        let req = self.create_request(req, config.account_id);
        let bytes = self.send_inner(req, request_strategy, timeout).await?;
        Ok(bytes::Bytes::from(bytes))
    }
}
