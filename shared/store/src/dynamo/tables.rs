//! What a local run needs before the first request: a client for DynamoDB Local or moto, and the
//! tables, created as the SAM template declares them.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::DynamoStore;
use super::failures::{backend, sdk_error};
use crate::port::{EXPIRES_AT, GSI1_PK, GSI1_SK, Index, PK, SK, StoreError, StoreResult, Table};

/// How long `create_tables` waits for a new table to become ACTIVE, and how often it looks.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);
const TABLE_POLL: Duration = Duration::from_millis(250);

/// A client for DynamoDB Local or moto at `endpoint`: region `AWS_REGION` (default `us-east-1`),
/// dummy static credentials. Built from the service config alone, so no shared config file, SSO
/// or instance metadata is consulted.
pub async fn local_client(endpoint: &str) -> Client {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(Credentials::new("test", "test", None, None, "nanoshop-local"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

impl DynamoStore {
    /// Creates the four tables where missing, waits until they are ACTIVE, and enables TTL.
    /// Existing tables are left as they are. The SAM template declares the same schema:
    ///
    /// - key: `pk` (S, HASH), `sk` (S, RANGE);
    /// - global secondary index `gsi1`: `gsi1pk` (S, HASH), `gsi1sk` (S, RANGE), projection ALL;
    /// - billing mode PAY_PER_REQUEST;
    /// - TTL on `expires_at`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when a table is not ACTIVE within two minutes; otherwise as the
    /// underlying requests.
    pub async fn create_tables(&self) -> StoreResult<()> {
        for table in Table::ALL {
            self.create_table(self.names.name(table)).await?;
        }
        for table in Table::ALL {
            let name = self.names.name(table);
            self.wait_until_active(name).await?;
            self.enable_ttl(name).await?;
        }
        Ok(())
    }

    async fn create_table(&self, name: &str) -> StoreResult<()> {
        let attribute = |name| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        let key = |name, key_type| {
            KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(backend)
        };
        let gsi1 = GlobalSecondaryIndex::builder()
            .index_name(Index::Gsi1.name())
            .key_schema(key(GSI1_PK, KeyType::Hash)?)
            .key_schema(key(GSI1_SK, KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(backend)?;
        let result = self
            .client
            .create_table()
            .table_name(name)
            .set_attribute_definitions(Some(vec![
                attribute(PK)?,
                attribute(SK)?,
                attribute(GSI1_PK)?,
                attribute(GSI1_SK)?,
            ]))
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .global_secondary_indexes(gsi1)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match result {
            Err(err) if matches!(err.as_service_error(), Some(CreateTableError::ResourceInUseException(_))) => Ok(()),
            other => other.map(drop).map_err(sdk_error),
        }
    }

    async fn wait_until_active(&self, name: &str) -> StoreResult<()> {
        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
        loop {
            let out = self.client.describe_table().table_name(name).send().await.map_err(sdk_error)?;
            if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::Unavailable(
                    format!("table {name} is not ACTIVE after {TABLE_ACTIVE_TIMEOUT:?}").into(),
                ));
            }
            tokio::time::sleep(TABLE_POLL).await;
        }
    }

    /// Asks first: DynamoDB refuses to enable TTL twice, with a `ValidationException` that only
    /// its message tells apart from real mistakes.
    async fn enable_ttl(&self, name: &str) -> StoreResult<()> {
        let out = self.client.describe_time_to_live().table_name(name).send().await.map_err(sdk_error)?;
        let status = out.time_to_live_description.and_then(|d| d.time_to_live_status);
        if matches!(status, Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)) {
            return Ok(());
        }
        let spec =
            TimeToLiveSpecification::builder().attribute_name(EXPIRES_AT).enabled(true).build().map_err(backend)?;
        self.client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }
}
