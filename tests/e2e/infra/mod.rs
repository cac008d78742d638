//! `infra/template.yaml` checked against the crates it deploys: what cfn-lint and
//! `sam validate --lint` cannot know (both run in `make test` too).
//!
//! The crates are the single source of truth: each function crate declares its `ROUTES`, its
//! table `ACCESS` list and its configuration type, whose arguments name the environment variables
//! its binary reads (`config::variables()`, derived from the type); the template is written by
//! hand and must agree with them. [`FUNCTIONS`] lists every binary with those declarations; a new
//! function crate adds its rows there, and these tests then say what the template lacks.
//!
//! Naming conventions the template follows, derived from the binary name (`payments-webhook` →
//! `PaymentsWebhook`): resource `<Name>Function`, parameter `<Name>FunctionArn`, condition
//! `Deploy<Name>`, integration `<Name>Integration`; tables are `<Table>Table`. A binary without
//! routes names what invokes it instead ([`Trigger`]): a schedule or a table's stream.
//!
//! One file per concern: the template's reading ([`template`]), the workspace's manifests
//! ([`workspace`]), the binary each function's build packages ([`build`]), then the checks:
//! function resources, routes, triggers, environment, IAM, tables, references, timeouts and
//! observability.

mod build;
mod environment;
mod functions;
mod iam;
mod observability;
mod references;
mod routes;
mod tables;
mod template;
mod timeouts;
mod triggers;
mod workspace;

use std::path::PathBuf;

use nanoshop_api::Route;
use nanoshop_store::port::{Table, TableAccess};
use serde_json::{Value, json};

pub(crate) use build::binary_of;
pub(crate) use template::{Template, one_or_many};

/// A deployable binary and what its crate declares about it.
struct Function {
    /// The `[[bin]]` name in its crate's Cargo.toml (its function's `BIN` in infra/Makefile).
    bin: &'static str,
    /// What invokes it: API Gateway on `routes`, or (binaries without routes) something else.
    trigger: Trigger,
    routes: &'static [Route],
    access: &'static [TableAccess],
    /// Every environment variable its binary reads, derived from its configuration type.
    variables: fn() -> Vec<String>,
    /// Variables its config reads that a deployment leaves unset (test endpoints such as
    /// `STRIPE_API_BASE`; the plain secret values a container or `nanoshop serve` sets where a
    /// deployment sets their Secrets Manager ids; `AUTH_JWKS_FILE`, where a deployment sets the
    /// document itself): the template must not set them.
    unset_in_aws: &'static [&'static str],
    /// IAM actions beyond DynamoDB, each justified where it is listed.
    other_actions: &'static [&'static str],
}

/// The variables the template gives every function whatever its binary reads: the log filter.
const SET_ON_EVERY_FUNCTION: &[&str] = &["RUST_LOG"];

impl Function {
    /// Exactly the variables a deployment gives this function: what its configuration type
    /// reads, but those a deployment leaves unset, plus [`SET_ON_EVERY_FUNCTION`].
    fn deployed_environment(&self) -> std::collections::BTreeSet<String> {
        (self.variables)()
            .into_iter()
            .filter(|v| !self.unset_in_aws.contains(&v.as_str()))
            .chain(SET_ON_EVERY_FUNCTION.iter().map(|v| (*v).to_owned()))
            .collect()
    }
}

/// [`Function::deployed_environment`] of the binary `bin`, for the deployment suite
/// (`tests/e2e/deployed`), which checks what SAM's transform gives each function against it.
pub(crate) fn deployed_environment(bin: &str) -> std::collections::BTreeSet<String> {
    FUNCTIONS
        .iter()
        .find(|f| f.bin == bin)
        .unwrap_or_else(|| panic!("{bin} is not in tests/e2e/infra/mod.rs FUNCTIONS"))
        .deployed_environment()
}

/// What invokes a function binary; its binary expects that event and no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// API Gateway, on the crate's `ROUTES`.
    Api,
    /// EventBridge Scheduler, with any event (`orders-expirer`: one sweep per invocation).
    Schedule,
    /// A batch of the table's stream records, through an event source mapping.
    Stream(Table),
    /// One order event at a time from the bus, through an EventBridge rule on these
    /// `detail-type`s (asynchronously: retries, then a dead-letter queue).
    Events(&'static [&'static str]),
}

/// Every function binary of the workspace. (The root package depends on every function crate for
/// `nanoshop serve`, so each crate's declarations are in reach here.)
const FUNCTIONS: &[Function] = &[
    Function {
        bin: "catalog",
        trigger: Trigger::Api,
        routes: nanoshop_catalog::ROUTES,
        access: nanoshop_catalog::ACCESS,
        variables: nanoshop_catalog::config::variables,
        unset_in_aws: &["CURSOR_SECRET", "AUTH_JWKS_FILE"],
        // Presigned image uploads are signed with the function's own credentials.
        other_actions: &["s3:PutObject"],
    },
    Function {
        bin: "cart",
        trigger: Trigger::Api,
        routes: nanoshop_cart::ROUTES,
        access: nanoshop_cart::ACCESS,
        variables: nanoshop_cart::config::variables,
        unset_in_aws: &["AUTH_JWKS_FILE"],
        other_actions: &[],
    },
    Function {
        bin: "checkout",
        trigger: Trigger::Api,
        routes: nanoshop_checkout::ROUTES,
        access: nanoshop_checkout::ACCESS,
        variables: nanoshop_checkout::config::variables,
        unset_in_aws: &[
            "STRIPE_API_BASE",
            "STRIPE_SECRET_KEY",
            "STRIPE_PUBLISHABLE_KEY",
            "ORDER_TOKEN_SECRET",
            "AUTH_JWKS_FILE",
        ],
        other_actions: &[],
    },
    Function {
        bin: "payments-webhook",
        trigger: Trigger::Api,
        routes: nanoshop_payments_webhook::ROUTES,
        access: nanoshop_payments_webhook::ACCESS,
        variables: nanoshop_payments_webhook::config::variables,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"],
        other_actions: &[],
    },
    Function {
        bin: "orders",
        trigger: Trigger::Api,
        routes: nanoshop_orders::ROUTES,
        access: nanoshop_orders::ACCESS,
        variables: nanoshop_orders::config::variables,
        unset_in_aws: &[
            "STRIPE_API_BASE",
            "STRIPE_SECRET_KEY",
            "ORDER_TOKEN_SECRET",
            "CURSOR_SECRET",
            "AUTH_JWKS_FILE",
        ],
        other_actions: &[],
    },
    Function {
        bin: "orders-expirer",
        trigger: Trigger::Schedule,
        routes: &[],
        access: nanoshop_orders::EXPIRER_ACCESS,
        variables: nanoshop_orders::config::expirer_variables,
        unset_in_aws: &["STRIPE_API_BASE", "STRIPE_SECRET_KEY"],
        other_actions: &[],
    },
    Function {
        bin: "orders-events-relay",
        trigger: Trigger::Stream(Table::Orders),
        routes: &[],
        access: nanoshop_orders::RELAY_ACCESS,
        variables: nanoshop_orders::config::relay_variables,
        unset_in_aws: &[],
        // It puts the events on the bus; its event source mapping sends the description of a
        // batch that kept failing to the dead-letter queue with the function's role.
        other_actions: &["events:PutEvents", "sqs:SendMessage"],
    },
    Function {
        bin: "customers",
        trigger: Trigger::Api,
        routes: nanoshop_customers::ROUTES,
        access: nanoshop_customers::ACCESS,
        variables: nanoshop_customers::config::variables,
        unset_in_aws: &["AUTH_JWKS_FILE"],
        other_actions: &[],
    },
    Function {
        bin: "notifications",
        trigger: Trigger::Events(nanoshop_notifications::EVENT_TYPES),
        routes: &[],
        access: nanoshop_notifications::ACCESS,
        variables: nanoshop_notifications::config::variables,
        // The key by its secret's id; SMTP, template folders and path-style S3 addressing are
        // for containers, serve and local S3 servers.
        unset_in_aws: &["ORDER_TOKEN_SECRET", "SMTP_URL", "TEMPLATES_DIR", "S3_FORCE_PATH_STYLE"],
        // The mail itself; Lambda's on-failure destination uses the function's role; the template
        // overrides' prefix, when one is set.
        other_actions: &["ses:SendEmail", "sqs:SendMessage", "s3:GetObject", "s3:ListBucket"],
    },
];

// ------------------------------------------------------------------------------------------------
// Names the template derives from the binaries and tables.
// ------------------------------------------------------------------------------------------------

/// `payments-webhook` → `PaymentsWebhook`.
fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

fn function_id(bin: &str) -> String {
    format!("{}Function", pascal(bin))
}

fn table_id(table: Table) -> String {
    format!("{}Table", pascal(table.as_str()))
}

/// A path with its parameter names erased: API Gateway matches `/products/{id}` and
/// `/products/{id_or_slug}` alike (and refuses two names at one position), and the functions
/// read the raw path, so the template uses one name per position.
fn shape(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

/// `<Name>FunctionArn` when set, ours otherwise.
fn swappable(name: &str, ours: Value) -> Value {
    json!({"Fn::If": [format!("Deploy{name}"), ours, {"Ref": format!("{name}FunctionArn")}]})
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_checks_themselves_read_names_and_paths_as_intended() {
    assert_eq!(pascal("payments-webhook"), "PaymentsWebhook");
    assert_eq!(function_id("orders-expirer"), "OrdersExpirerFunction");
    assert_eq!(table_id(Table::Idempotency), "IdempotencyTable");
    assert_eq!(shape("/products/{id_or_slug}/images"), "/products/{}/images");
    assert_eq!(
        template::sub_variables("arn:${AWS::Partition}:x:${HttpApi}/${!Literal}/${A.Arn}"),
        ["AWS::Partition", "HttpApi", "A.Arn"]
    );
}
