//! The start-up every function binary shares, between reading its configuration and building its
//! router: the AWS configuration loaded once, the clients built from it, and one warm-up during
//! init. Kept in one place so a change to how functions start (a timeout, a client setting, what
//! is warmed) reaches all five.

use nanoshop_store::dynamo::{DynamoStore, TableNames};

use crate::Secrets;
use crate::secrets::secrets_manager_client;

/// What a function's `main` builds once and hands to its router: the AWS configuration (for any
/// further client, such as the catalog's S3), the table store, and the secrets reader.
#[derive(Debug)]
pub struct Clients {
    pub aws: aws_config::SdkConfig,
    pub store: DynamoStore,
    /// Opens the function's secrets; [`Clients::warm`] reads those opened before it.
    pub secrets: Secrets,
}

impl Clients {
    /// The AWS configuration from the environment (region, credentials, endpoint overrides), and
    /// the clients of `tables` and of Secrets Manager built from it. Nothing is sent yet.
    pub async fn load(tables: TableNames) -> Self {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), tables);
        let secrets = Secrets::new(Some(secrets_manager_client(&aws)));
        Self { aws, store, secrets }
    }

    /// Both during init, before the first request is taken: the table's TLS connection, and the
    /// first read of every secret opened so far (a failure is logged; requests then answer 503
    /// until a read succeeds). A function with no secrets opened warms only the table. Init is
    /// billed like the rest of the invocation for a custom runtime, so this moves the work ahead
    /// of a request rather than making it free (docs/benchmarks.md measures what it costs).
    pub async fn warm(&self) {
        tokio::join!(self.store.warm(), self.secrets.load());
    }
}
