//! [`when_configured`]: a router that answers 503 `not_configured` until the secrets it needs can
//! be read, then is built once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use crate::ApiError;

type Build = dyn Fn() -> Pin<Box<dyn Future<Output = Option<Router>> + Send>> + Send + Sync;

struct Lazy {
    router: tokio::sync::OnceCell<Router>,
    build: Box<Build>,
}

/// A router built by `build` once it can be: `build` answers `None` while a secret it needs is
/// missing (it should only [`Secret::get`] or [`hmac_key`], which limit how often they read), and
/// until it answers `Some` every request is 503 `not_configured`. Tries once now, then on
/// requests. The router it builds gets the 404 and 405 problem+json fallbacks; merge the result
/// with the health route and give it `with_common_layers_and_fallback`.
pub async fn when_configured<F, Fut>(build: F) -> Router
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Router>> + Send + 'static,
{
    let build = move || {
        let built = build();
        Box::pin(async move {
            built.await.map(|router| {
                router.fallback(crate::http::not_found).method_not_allowed_fallback(crate::http::method_not_allowed)
            })
        }) as Pin<Box<dyn Future<Output = Option<Router>> + Send>>
    };
    let lazy = Arc::new(Lazy { router: tokio::sync::OnceCell::new(), build: Box::new(build) });
    if let Some(router) = (lazy.build)().await {
        let _ = lazy.router.set(router);
    }
    Router::new().fallback(serve_lazily).with_state(lazy)
}

async fn serve_lazily(State(lazy): State<Arc<Lazy>>, request: Request) -> Response {
    let router = match lazy.router.get() {
        Some(router) => router.clone(),
        None => match (lazy.build)().await {
            Some(router) => lazy.router.get_or_init(|| async { router }).await.clone(),
            None => return ApiError::not_configured("a secret this function needs cannot be read yet").into_response(),
        },
    };
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
