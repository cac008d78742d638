//! The customers function on its own: its router on the embedded store (behind the counting
//! wrapper, so each endpoint's round trips are pinned), with orders seeded in their table layout,
//! called through `tower::ServiceExt::oneshot`. Profiles, addresses, privacy and the admin's
//! lookup in their modules; round trips in `counts`.
#![allow(clippy::unwrap_used)]

mod addresses;
mod admin;
mod counts;
mod privacy;
mod profile;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use axum::Router;
use axum::http::StatusCode;
use nanoshop_api::testing::{TestAuth, TestRequest, assert_admin_only, assert_serves_every_route, seed};
use nanoshop_api::with_common_layers;
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::Order;
use nanoshop_store::counting::CountingStore;
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::{Condition, Item, Key, Query, QueryPage, Store, StoreResult, Table, Update, Write};
use serde_json::{Value, json};

use crate::{CustomersDeps, ROUTES, router};

/// The customers function as its binary serves it.
struct Shop {
    /// With the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    auth: TestAuth,
    store: Arc<EmbeddedStore>,
    counting: Arc<CountingStore>,
}

fn shop_over(store: Arc<dyn Store>, embedded: Arc<EmbeddedStore>) -> Shop {
    let counting = Arc::new(CountingStore::new(store));
    let auth = TestAuth::new();
    let routes = router(CustomersDeps { store: counting.clone(), verifier: auth.verifier.clone() });
    Shop { app: with_common_layers(routes.clone()), routes, auth, store: embedded, counting }
}

/// A shop over an embedded store that lets a test change the account between a request's read
/// and its write ([`RacingStore::before_next`]).
fn racing_shop() -> (Shop, Arc<RacingStore>) {
    let embedded = Arc::new(EmbeddedStore::in_memory());
    let racing = Arc::new(RacingStore::new(embedded.clone()));
    (shop_over(racing.clone(), embedded), racing)
}

/// What another device's `POST /me/addresses` writes for customer `sub`: a saved Bonn address and
/// the count it takes.
fn another_device_saves_an_address(sub: &str) -> Interloper {
    use nanoshop_domain::address::{Address, UncheckedAddress};
    use nanoshop_domain::customer::SavedAddress;
    use nanoshop_domain::ids::AddressId;
    use nanoshop_schema::customers::{ADDRESS_COUNT, address_key, profile_key};
    use nanoshop_schema::{DOC, encode};

    let input = UncheckedAddress {
        name: "Bob".into(),
        line1: "Hauptstr. 1".into(),
        city: "Bonn".into(),
        postal_code: "53111".into(),
        country: "DE".into(),
        ..Default::default()
    };
    let theirs = SavedAddress { id: AddressId::generate(), label: None, address: Address::new(input).unwrap() };
    Interloper::Transact(vec![
        Write::Put {
            table: Table::Carts,
            item: Item::new(&address_key(sub, &theirs.id)).with(DOC, encode(&theirs).unwrap()),
            condition: Some(Condition::NotExists),
        },
        Write::Update { table: Table::Carts, update: Update::new(profile_key(sub)).add(ADDRESS_COUNT, 1) },
    ])
}

async fn shop() -> Shop {
    let store = Arc::new(EmbeddedStore::in_memory());
    seed::variant(store.as_ref(), "P0", 1000, 50).await;
    shop_over(store.clone(), store)
}

/// An address as clients send it.
fn berlin() -> Value {
    json!({"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"})
}

fn hamburg() -> Value {
    json!({"name": "Ada Lovelace", "line1": "Jungfernstieg 7", "city": "Hamburg", "postal_code": "20354", "country": "DE", "phone": "+49 40 1234"})
}

impl Shop {
    fn customer(&self, sub: &str) -> String {
        self.auth.customer(sub)
    }

    /// Saves `address` for the customer with `token`; answers the saved address.
    async fn add_address(&self, token: &str, body: Value) -> Value {
        let reply = TestRequest::post("/me/addresses").bearer(token).json(&body).send(&self.app).await;
        reply.assert_status(StatusCode::CREATED).clone()
    }

    async fn me(&self, token: &str) -> Value {
        TestRequest::get("/me").bearer(token).send(&self.app).await.assert_status(StatusCode::OK).clone()
    }

    async fn book(&self, token: &str) -> Vec<Value> {
        let reply = TestRequest::get("/me/addresses").bearer(token).send(&self.app).await;
        reply.assert_status(StatusCode::OK)["items"].as_array().unwrap().clone()
    }

    /// An order placed by `customer` (e-mail `email`), paid.
    async fn order(&self, customer: &str, email: &str) -> Order {
        let pending =
            seed::PendingOrder { id: OrderId::generate(), customer: Some(customer), email, sku: "P0", quantity: 2 };
        let order = pending.store(self.store.as_ref(), &format!("pi_{}", pending.id)).await;
        seed::paid(self.store.as_ref(), &order).await
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let shop = shop().await;
    assert_serves_every_route(&shop.routes, ROUTES).await;
}

#[tokio::test]
async fn admin_routes_refuse_guests_and_customers() {
    let shop = shop().await;
    assert_admin_only(&shop.app, ROUTES, &shop.auth).await;
}

/// Every customer route: a guest, or a caller with only a cart token, is 401 before the body
/// or the path is looked at.
#[tokio::test]
async fn customer_routes_need_a_bearer_token() {
    let shop = shop().await;
    for route in ROUTES.iter().filter(|r| r.access == nanoshop_api::Access::Customer) {
        let path = route.path.replace("{id}", "addr_01M9730DAH83EZ1SZBA819VNSW");
        let method = axum::http::Method::from_bytes(route.method.as_bytes()).unwrap();
        let guest = TestRequest::new(method.clone(), &path).json(&json!({})).send(&shop.app).await;
        guest.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
        let cart_token = TestRequest::new(method.clone(), &path).header("x-cart-token", "ct_x").send(&shop.app).await;
        cart_token.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
        let forged = TestRequest::new(method, &path).bearer("not.a.jwt").send(&shop.app).await;
        forged.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

/// Another writer's change, made just before this function's next write of its kind reaches the
/// store: between its read and its write, the race every conditional write must survive.
#[derive(Debug)]
enum Interloper {
    Update(Update),
    Transact(Vec<Write>),
}

/// The embedded store, with an [`Interloper`] waiting for the next write.
#[derive(Debug)]
struct RacingStore {
    inner: Arc<EmbeddedStore>,
    interloper: Mutex<Option<Interloper>>,
}

impl RacingStore {
    fn new(inner: Arc<EmbeddedStore>) -> Self {
        Self { inner, interloper: Mutex::new(None) }
    }

    fn before_next(&self, change: Interloper) {
        *self.interloper.lock().unwrap() = Some(change);
    }
}

#[async_trait]
impl Store for RacingStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(table, key).await
    }
    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(table, keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        self.inner.query(query).await
    }
    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.put(table, item, condition).await
    }
    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        let taken = self.interloper.lock().unwrap().take_if(|i| matches!(i, Interloper::Update(_)));
        if let Some(Interloper::Update(other)) = taken {
            self.inner.update(table, other).await?;
        }
        self.inner.update(table, update).await
    }
    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.delete(table, key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        let taken = self.interloper.lock().unwrap().take_if(|i| matches!(i, Interloper::Transact(_)));
        if let Some(Interloper::Transact(other)) = taken {
            self.inner.transact(other).await?;
        }
        self.inner.transact(writes).await
    }
}
