//! `/docs`: the API reference page, `/openapi.json` rendered by Redoc in the browser.
//!
//! Redoc's standalone bundle (redoc 2.5.4, MIT; its licences beside it in `vendor/redoc/`) is
//! compiled into the binary and served from `/docs/redoc.standalone.js`, so the page works
//! offline, from a fresh clone, in a container, with no CDN and no install step. That costs the
//! `nanoshop` binary (not the Lambda functions) 1.1 MB. `scripts/apitools.sh check` proves the
//! vendored file is the pinned npm release byte for byte.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const REDOC_BUNDLE: &[u8] = include_bytes!("../vendor/redoc/redoc.standalone.js");

/// The page: Redoc reads the document the same server serves.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nanoshop API reference</title>
<style>body { margin: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.json" expand-responses="200,201" path-in-middle-panel="true"></redoc>
<script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// What the page may load: its own script, the document, the styles and search worker Redoc makes
/// itself. Nothing from another origin: Redoc 2.5.4's sidebar footer asks a CDN for a logo, which
/// the browser refuses here (the link text stays).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        PAGE,
    )
}

async fn bundle() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        REDOC_BUNDLE,
    )
}

/// `GET /docs` and the bundle it loads.
pub fn router() -> Router {
    Router::new().route("/docs", get(page)).route("/docs/redoc.standalone.js", get(bundle))
}
