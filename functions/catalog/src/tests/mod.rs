//! The catalog function on its own: its router on the embedded store, called through
//! `tower::ServiceExt::oneshot` as axum's testing example calls its app. Routes and who may call
//! them here; each resource's behaviour and errors in its module.
#![allow(clippy::unwrap_used)]

mod admin;
mod categories;
mod products;
mod search;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use chrono::Utc;
use nanoshop_api::testing::{TestAuth, assert_admin_only, assert_serves_every_route};
use nanoshop_api::{CursorCodec, health_router, with_common_layers};
use nanoshop_store::embedded::EmbeddedStore;

use crate::images::{ImageStorage, PresignedUpload};
use crate::{CatalogDeps, FUNCTION, ROUTES, VERSION, router};

/// Image storage that signs nothing: the catalog only hands its URL on.
#[derive(Debug)]
struct FakeImages;

#[async_trait]
impl ImageStorage for FakeImages {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        lifetime: Duration,
    ) -> anyhow::Result<PresignedUpload> {
        Ok(PresignedUpload {
            url: format!("https://images.test/{key}"),
            method: "PUT",
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), content_length.to_string()),
            ],
            expires_at: Utc::now() + chrono::Duration::from_std(lifetime)?,
        })
    }

    fn public_url(&self, key: &str) -> String {
        format!("https://images.test/{key}")
    }
}

/// The catalog as its binary serves it, on a fresh in-memory store.
struct Catalog {
    /// With `/health` and the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    auth: TestAuth,
}

fn catalog() -> Catalog {
    catalog_on(Arc::new(EmbeddedStore::in_memory()))
}

/// The catalog on `store` (a counting one, or one seeded beforehand).
fn catalog_on(store: Arc<dyn nanoshop_store::Store>) -> Catalog {
    let auth = TestAuth::new();
    let routes = health_router(FUNCTION, VERSION).merge(router(CatalogDeps {
        store,
        images: Arc::new(FakeImages),
        verifier: auth.verifier.clone(),
        cursors: CursorCodec::new(&[7; 32]),
    }));
    Catalog { app: with_common_layers(routes.clone()), routes, auth }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let catalog = catalog();
    assert_serves_every_route(&catalog.routes, ROUTES).await;
}

#[tokio::test]
async fn admin_routes_refuse_guests_with_401_and_customers_with_403() {
    let catalog = catalog();
    assert_admin_only(&catalog.app, ROUTES, &catalog.auth).await;
}
