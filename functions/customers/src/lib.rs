//! The customers function: a signed-in customer's profile and address book (`/me`,
//! `/me/addresses`), their erasure and export, and an administrator's lookup of a customer
//! (`/customers`).
//!
//! - [`router`] builds the routes from [`CustomersDeps`]; `main.rs` only wires.
//! - [`http`]: the handlers, by concern (profile, addresses, privacy, admin).
//! - [`repo`]: the customer's items in the carts table (`nanoshop_schema::customers`) and their
//!   orders in the orders table.
//! - [`erase`]: what an erasure leaves of an order.

pub mod config;
pub mod erase;
pub mod http;
pub mod repo;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, patch};
use http::addresses::{AddressPatchHttpBody, NewAddressHttpBody};
use http::admin::{CustomerHttpResponse, CustomerSearchHttpQuery, CustomersHttpResponse};
use http::privacy::ExportHttpResponse;
use http::profile::ProfilePatchHttpBody;
use http::{AddressBookHttpResponse, ProfileHttpResponse, SavedAddressHttpResponse};
use nanoshop_api::{Access, Header, Route, Verifier, schema};
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::repo::CustomerRepository;

pub const FUNCTION: &str = "customers";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every route of the customers function, as `docs/api.md` lists them: the OpenAPI document is
/// generated from this table and the types it names.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/me",
        access: Access::Customer,
        summary: "The signed-in customer's profile (empty until they write one)",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<ProfileHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "PATCH",
        path: "/me",
        access: Access::Customer,
        summary: "Change the profile's name, e-mail, phone or marketing consent; null clears a field",
        body: Some(schema::<ProfilePatchHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<ProfileHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(409, &["account_changed"]), (412, &["version_conflict"]), (422, &["validation_failed"])],
    },
    Route {
        method: "DELETE",
        path: "/me",
        access: Access::Customer,
        summary: "Erase the profile, addresses and cart, and anonymise the customer's orders",
        body: None,
        query: &[],
        ok: &[(204, None)],
        headers: &[],
        errors: &[(409, &["account_changed"])],
    },
    Route {
        method: "GET",
        path: "/me/export",
        access: Access::Customer,
        summary: "Everything stored about the signed-in customer",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<ExportHttpResponse>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "GET",
        path: "/me/addresses",
        access: Access::Customer,
        summary: "The address book, oldest first",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<AddressBookHttpResponse>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "POST",
        path: "/me/addresses",
        access: Access::Customer,
        summary: "Save an address (at most 20); the first becomes the default shipping and billing address",
        body: Some(schema::<NewAddressHttpBody>),
        query: &[],
        ok: &[(201, Some(schema::<SavedAddressHttpResponse>))],
        headers: &[Header::Location],
        errors: &[(409, &["address_book_full", "account_changed"]), (422, &["validation_failed"])],
    },
    Route {
        method: "PATCH",
        path: "/me/addresses/{id}",
        access: Access::Customer,
        summary: "Change a saved address, or make it (or stop it being) a default",
        body: Some(schema::<AddressPatchHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<SavedAddressHttpResponse>))],
        headers: &[],
        errors: &[(409, &["account_changed"]), (422, &["validation_failed"])],
    },
    Route {
        method: "DELETE",
        path: "/me/addresses/{id}",
        access: Access::Customer,
        summary: "Delete a saved address; a default it was is left unset",
        body: None,
        query: &[],
        ok: &[(204, None)],
        headers: &[],
        errors: &[(409, &["account_changed"])],
    },
    Route {
        method: "GET",
        path: "/customers",
        access: Access::Admin,
        summary: "Customers whose profile has this e-mail",
        body: None,
        query: &[schema::<CustomerSearchHttpQuery>],
        ok: &[(200, Some(schema::<CustomersHttpResponse>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "GET",
        path: "/customers/{sub}",
        access: Access::Admin,
        summary: "A customer's profile, addresses and orders",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CustomerHttpResponse>))],
        headers: &[],
        errors: &[],
    },
];

/// Every table the customers function touches and how; its IAM policy is derived from this list.
/// The carts table holds the customer's items (and its e-mail index the lookup); of the orders
/// table it reads the customer's listing and orders, and an erasure rewrites those orders and
/// deletes their listing entries. It warms its connection on the carts table.
pub const ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Carts,
        actions: &[
            Action::GetItem,
            Action::BatchGetItem,
            Action::Query,
            Action::PutItem,
            Action::UpdateItem,
            Action::DeleteItem,
            Action::DescribeTable,
        ],
        index: true,
    },
    TableAccess {
        table: Table::Orders,
        actions: &[Action::BatchGetItem, Action::Query, Action::PutItem, Action::DeleteItem],
        index: false,
    },
];

/// What the customers function needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct CustomersDeps {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<Verifier>,
}

/// Each field is a sub-state the handlers extract on its own (`State<Arc<Verifier>>` for the
/// auth extractors); `FromRef` is derived for every one.
#[derive(Debug, Clone, FromRef)]
pub struct CustomersState {
    pub repo: CustomerRepository,
    pub verifier: Arc<Verifier>,
}

/// The customers routes, without the common layers.
pub fn router(deps: CustomersDeps) -> Router {
    let state = CustomersState { repo: CustomerRepository::new(deps.store), verifier: deps.verifier };
    Router::new()
        .route("/me", get(http::profile::get).patch(http::profile::patch).delete(http::privacy::erase))
        .route("/me/export", get(http::privacy::export))
        .route("/me/addresses", get(http::addresses::list).post(http::addresses::add))
        .route("/me/addresses/{id}", patch(http::addresses::change).delete(http::addresses::remove))
        .route("/customers", get(http::admin::search))
        .route("/customers/{sub}", get(http::admin::get))
        .with_state(state)
}
