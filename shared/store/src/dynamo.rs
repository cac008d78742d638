//! The DynamoDB adapter of the [`Store`] port, and the table definitions `nanoshop` creates for
//! local runs.
//!
//! Every port operation is one DynamoDB request (a batch get, one per 100 keys), except where the
//! port's TTL rule forces more. DynamoDB deletes expired items days late, while the port treats
//! them as absent. Reads and conditions can say so (a filter, and a clause on `expires_at` in every
//! compiled condition), but an `UpdateItem` on an expired item would start from its stale
//! attributes where [`Update::apply`] starts from a fresh item. So a compiled update refuses to
//! touch an expired item, and when that refusal is the only reason it failed, the adapter writes
//! the fresh item with a put conditioned on [`Condition::NotExists`] instead: a second round trip,
//! or in a transaction a second attempt.
//!
//! Every attribute name in an expression goes through a `#n` placeholder (many of ours, such as
//! `status`, are reserved words) and every value through a `:v` placeholder.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeDefinition, AttributeValue, BillingMode, CancellationReason, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
    TransactWriteItem,
};

use crate::port::{
    CancelReason, Condition, EXPIRES_AT, GSI1_PK, GSI1_SK, Index, Item, Key, MAX_QUERY_LIMIT, PK, PageKey, Query,
    QueryPage, SK, Store, StoreError, StoreResult, Table, TableAccess, Update, VERSION, Value, Write, check_batch,
    check_query, check_transaction, now_unix,
};

/// DynamoDB's limit on the keys of one `BatchGetItem`.
const BATCH_GET_MAX_KEYS: usize = 100;
/// Attempts at a request DynamoDB answered only in part (unprocessed keys), cancelled for
/// conflicts, or found in progress, before giving up.
const MAX_ATTEMPTS: u32 = 8;
/// Backoff between those attempts: doubling from the base, capped.
const BACKOFF_BASE_MS: u64 = 25;
const BACKOFF_MAX_MS: u64 = 1_000;
/// How long `create_tables` waits for a new table to become ACTIVE, and how often it looks.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the cold-start warm-up call may take before start-up goes on without it.
const WARM_TIMEOUT: Duration = Duration::from_secs(1);
const TABLE_POLL: Duration = Duration::from_millis(250);
/// An attribute no item has. An update that changes nothing still needs an `UpdateExpression`
/// (transactions require one, and moto fails without one), and removing an absent attribute is
/// the one no-op that still creates a missing item, as [`Update::apply`] does.
const NO_ATTRIBUTE: &str = "nanoshop:none";
/// Error codes that mean "slow down or try again", not "your request is wrong".
const TRANSIENT_CODES: [&str; 4] = [
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    // A single-item write on an item that a transaction is writing.
    "TransactionConflictException",
];
/// Cancellation-reason codes of a transaction worth retrying as is.
const TRANSIENT_REASONS: [&str; 3] = ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// The physical names of the tables a function uses. A table it does not use has no name (an
/// empty one): a call on it fails, as DynamoDB refuses the name (and in a deployment the
/// function's policy, granted from the same `ACCESS` list, refuses the call anyway).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableNames {
    /// `CATALOG_TABLE`
    pub catalog: String,
    /// `CARTS_TABLE`
    pub carts: String,
    /// `ORDERS_TABLE`
    pub orders: String,
    /// `IDEMPOTENCY_TABLE`
    pub idempotency: String,
}

/// A table-name variable is unset, empty or not Unicode.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {var} must name a DynamoDB table")]
pub struct MissingTableName {
    pub var: &'static str,
}

impl TableNames {
    /// Reads the name of each table `access` lists, and of no other: [`TableNames::variable`]
    /// of each, in [`Table::ALL`]'s order.
    ///
    /// # Errors
    /// [`MissingTableName`] naming the first variable that is unset or empty.
    pub fn from_env(access: &[TableAccess]) -> Result<Self, MissingTableName> {
        Self::from_vars(Self::tables_of(access), |var| std::env::var(var).ok())
    }

    fn from_vars(
        tables: impl IntoIterator<Item = Table>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, MissingTableName> {
        let mut names = Self::default();
        for table in tables {
            let var = Self::variable(table);
            let name = get(var).filter(|v| !v.is_empty()).ok_or(MissingTableName { var })?;
            match table {
                Table::Catalog => names.catalog = name,
                Table::Carts => names.carts = name,
                Table::Orders => names.orders = name,
                Table::Idempotency => names.idempotency = name,
            }
        }
        Ok(names)
    }

    /// The variable that names `table`: `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`,
    /// `IDEMPOTENCY_TABLE`.
    pub fn variable(table: Table) -> &'static str {
        match table {
            Table::Catalog => "CATALOG_TABLE",
            Table::Carts => "CARTS_TABLE",
            Table::Orders => "ORDERS_TABLE",
            Table::Idempotency => "IDEMPOTENCY_TABLE",
        }
    }

    /// The variables [`TableNames::from_env`] reads for `access`.
    pub fn variables(access: &[TableAccess]) -> Vec<&'static str> {
        Self::tables_of(access).map(Self::variable).collect()
    }

    /// The tables `access` lists, each once, in [`Table::ALL`]'s order.
    fn tables_of(access: &[TableAccess]) -> impl Iterator<Item = Table> + '_ {
        Table::ALL.into_iter().filter(|table| access.iter().any(|a| a.table == *table))
    }

    /// `{prefix}-catalog`, `{prefix}-carts`, …: fresh tables per test, or a local setup.
    pub fn with_prefix(prefix: &str) -> Self {
        let name = |table: Table| format!("{prefix}-{}", table.as_str());
        Self {
            catalog: name(Table::Catalog),
            carts: name(Table::Carts),
            orders: name(Table::Orders),
            idempotency: name(Table::Idempotency),
        }
    }

    pub fn name(&self, table: Table) -> &str {
        match table {
            Table::Catalog => &self.catalog,
            Table::Carts => &self.carts,
            Table::Orders => &self.orders,
            Table::Idempotency => &self.idempotency,
        }
    }
}

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

/// The [`Store`] port on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    names: TableNames,
}

impl DynamoStore {
    pub fn new(client: Client, names: TableNames) -> Self {
        Self { client, names }
    }

    /// Opens the connection before the first request needs it (a Lambda cold start). Failures are
    /// only logged: the first real request will report them.
    pub async fn warm(&self) {
        // One attempt, bounded: warming is best effort, and the SDK's retries with backoff would
        // add seconds to a cold start whenever DynamoDB is briefly unreachable.
        let once = aws_sdk_dynamodb::config::Builder::default()
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder().operation_timeout(WARM_TIMEOUT).build(),
            );
        let result =
            self.client.describe_table().table_name(&self.names.catalog).customize().config_override(once).send().await;
        if let Err(err) = result {
            tracing::debug!(error = %DisplayErrorContext(&err), "warm-up DescribeTable failed");
        }
    }

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

    /// `PutItem`. A failed condition carries the stored item as it is, expired or not.
    async fn put_item(&self, table: Table, item: &Item, condition: Option<&Condition>, now: i64) -> StoreResult<()> {
        let mut x = Expr::new(now);
        let condition = condition.map(|c| x.condition(c));
        let result = self
            .client
            .put_item()
            .table_name(self.names.name(table))
            .set_item(Some(attributes(item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(x.names())
            .set_expression_attribute_values(x.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        result.map(drop).map_err(|err| match err.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(e)) => condition_failed(e.item()),
            _ => sdk_error(err),
        })
    }

    /// `UpdateItem`, refusing expired items (see the module docs). A failed condition carries the
    /// stored item as it is, expired or not.
    async fn update_item(&self, table: Table, update: &Update, now: i64) -> StoreResult<Item> {
        let mut x = Expr::new(now);
        let (expression, condition) = x.update(update)?;
        let result = self
            .client
            .update_item()
            .table_name(self.names.name(table))
            .set_key(Some(key_attributes(&update.key)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(x.names())
            .set_expression_attribute_values(x.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let out = result.map_err(|err| match err.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(e)) => condition_failed(e.item()),
            _ => sdk_error(err),
        })?;
        item_from(&out.attributes.ok_or_else(|| malformed("UpdateItem returned no attributes".into()))?)
    }

    fn transact_item(&self, write: &Write, fresh: bool, now: i64) -> StoreResult<TransactWriteItem> {
        let mut x = Expr::new(now);
        let item = match write {
            Write::Update { table, update } if fresh => {
                return self.transact_put(*table, &update.apply(None, now)?, Some(&Condition::NotExists), now);
            }
            Write::Put { table, item, condition } => return self.transact_put(*table, item, condition.as_ref(), now),
            Write::Update { table, update } => {
                let (expression, condition) = x.update(update)?;
                let update = ddb::Update::builder()
                    .table_name(self.names.name(*table))
                    .set_key(Some(key_attributes(&update.key)))
                    .update_expression(expression)
                    .condition_expression(condition)
                    .set_expression_attribute_names(x.names())
                    .set_expression_attribute_values(x.values())
                    // `judge_cancellation` tells expiry from a real failure by the stored item.
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build()
                    .map_err(backend)?;
                TransactWriteItem::builder().update(update)
            }
            Write::Delete { table, key, condition } => {
                let condition = condition.as_ref().map(|c| x.condition(c));
                let delete = ddb::Delete::builder()
                    .table_name(self.names.name(*table))
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(x.names())
                    .set_expression_attribute_values(x.values())
                    .build()
                    .map_err(backend)?;
                TransactWriteItem::builder().delete(delete)
            }
            Write::Check { table, key, condition } => {
                let condition = x.condition(condition);
                let check = ddb::ConditionCheck::builder()
                    .table_name(self.names.name(*table))
                    .set_key(Some(key_attributes(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(x.names())
                    .set_expression_attribute_values(x.values())
                    .build()
                    .map_err(backend)?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }

    fn transact_put(
        &self,
        table: Table,
        item: &Item,
        condition: Option<&Condition>,
        now: i64,
    ) -> StoreResult<TransactWriteItem> {
        let mut x = Expr::new(now);
        let condition = condition.map(|c| x.condition(c));
        let put = ddb::Put::builder()
            .table_name(self.names.name(table))
            .set_item(Some(attributes(item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(x.names())
            .set_expression_attribute_values(x.values())
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(self.names.name(table))
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let now = now_unix();
        out.item.map(|attrs| item_from(&attrs)).transpose().map(|item| item.filter(|i| !i.is_expired(now)))
    }

    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        check_batch(keys)?;
        let name = self.names.name(table);
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
            let mut pending: Vec<_> = chunk.iter().map(key_attributes).collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt == MAX_ATTEMPTS {
                    return Err(StoreError::Unavailable(
                        format!("DynamoDB left keys of {name} unprocessed {MAX_ATTEMPTS} times").into(),
                    ));
                }
                if attempt > 0 {
                    tokio::time::sleep(backoff(attempt - 1)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build()
                    .map_err(backend)?;
                let out = self.client.batch_get_item().request_items(name, request).send().await.map_err(sdk_error)?;
                for attrs in out.responses.and_then(|mut r| r.remove(name)).unwrap_or_default() {
                    let item = item_from(&attrs)?;
                    let key = item.key().ok_or_else(|| malformed(format!("an item of {name} has no string pk/sk")))?;
                    found.insert(key, item);
                }
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(name)).map(|k| k.keys).unwrap_or_default();
                attempt += 1;
            }
        }
        let now = now_unix();
        Ok(keys.iter().filter_map(|k| found.remove(k)).filter(|i: &Item| !i.is_expired(now)).collect())
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        check_query(query)?;
        let mut x = Expr::new(now_unix());
        let (pk, sk) = if query.index.is_some() { (GSI1_PK, GSI1_SK) } else { (PK, SK) };
        let mut key_condition = format!("{} = {}", x.name(pk), x.value(Value::S(query.partition.clone())));
        // DynamoDB refuses an empty string in a key condition; an empty prefix means no prefix.
        if let Some(prefix) = query.sort_prefix.as_ref().filter(|p| !p.is_empty()) {
            key_condition =
                format!("{key_condition} AND begins_with({}, {})", x.name(sk), x.value(Value::S(prefix.clone())));
        }
        // Applied after `Limit`, as the port's `QueryPage` documents.
        let live = x.live();
        let limit = i32::try_from(query.limit)
            .map_err(|_| StoreError::Invalid(format!("query limit must be 1 to {MAX_QUERY_LIMIT}")))?;
        let start = query
            .after
            .as_ref()
            .map(|page| page.0.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect());
        let out = self
            .client
            .query()
            .table_name(self.names.name(query.table))
            .set_index_name(query.index.map(|i| i.name().to_owned()))
            // DynamoDB refuses consistent reads on a global secondary index.
            .consistent_read(query.index.is_none())
            .key_condition_expression(key_condition)
            .filter_expression(live)
            .set_expression_attribute_names(x.names())
            .set_expression_attribute_values(x.values())
            .scan_index_forward(!query.descending)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let items = out.items.unwrap_or_default().iter().map(item_from).collect::<StoreResult<_>>()?;
        let next = out.last_evaluated_key.map(|key| page_key(&key)).transpose()?;
        Ok(QueryPage { items, next })
    }

    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        if item.key().is_none() {
            return Err(StoreError::Invalid("a put item has no string pk/sk".into()));
        }
        let now = now_unix();
        self.put_item(table, &item, condition.as_ref(), now).await.map_err(|e| hide_expired(e, now))
    }

    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        for _ in 0..MAX_ATTEMPTS {
            let now = now_unix();
            let stored = match self.update_item(table, &update, now).await {
                Err(StoreError::ConditionFailed { current }) => current.map(|i| *i),
                other => return other,
            };
            if let UpdateFailure::Final(err) = judge_failed_update(&update, stored, now) {
                return Err(err);
            }
            let item = update.apply(None, now)?;
            match self.put_item(table, &item, Some(&Condition::NotExists), now).await {
                Ok(()) => return Ok(item),
                // A live item appeared since: the update applies to it, so go round again.
                Err(StoreError::ConditionFailed { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Err(StoreError::Unavailable(
            format!("item {} kept expiring and reappearing during an update", update.key).into(),
        ))
    }

    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        let now = now_unix();
        let mut x = Expr::new(now);
        let condition = condition.map(|c| x.condition(&c));
        let result = self
            .client
            .delete_item()
            .table_name(self.names.name(table))
            .set_key(Some(key_attributes(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(x.names())
            .set_expression_attribute_values(x.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        result.map(drop).map_err(|err| match err.as_service_error() {
            Some(DeleteItemError::ConditionalCheckFailedException(e)) => hide_expired(condition_failed(e.item()), now),
            _ => sdk_error(err),
        })
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        check_transaction(&writes)?;
        // `fresh[i]`: send update `i` as a put of a fresh item, its stored item being expired.
        let mut fresh = vec![false; writes.len()];
        let build = |fresh: &[bool], now| {
            writes.iter().zip(fresh).map(|(w, &f)| self.transact_item(w, f, now)).collect::<StoreResult<Vec<_>>>()
        };
        let mut now = now_unix();
        let mut items = build(&fresh, now)?;
        // The SDK resends a request with the same token after a timeout, so a transaction applies
        // at most once; we keep that token while our own attempt may still be in progress.
        let mut token = client_token();
        let mut conflicts = None;
        for attempt in 0..MAX_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let Err(err) = result else { return Ok(()) };
            match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    match judge_cancellation(&writes, &mut fresh, e.cancellation_reasons(), now)? {
                        Cancellation::Final(reasons) => {
                            return Err(StoreError::TransactionCancelled { reasons });
                        }
                        Cancellation::Rewritten => {}
                        Cancellation::Transient(reasons) => {
                            conflicts = Some(reasons);
                            tokio::time::sleep(backoff(attempt)).await;
                        }
                        Cancellation::Unexpected => return Err(backend(err)),
                    }
                    now = now_unix();
                    items = build(&fresh, now)?;
                    token = client_token();
                }
                // A resend of ours with this token is still running: wait, then ask again with
                // the very same request, which DynamoDB answers with that attempt's outcome.
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                _ => return Err(sdk_error(err)),
            }
        }
        Err(match conflicts {
            Some(reasons) if reasons.contains(&Some(CancelReason::Conflict)) => {
                StoreError::TransactionCancelled { reasons }
            }
            _ => StoreError::Unavailable(
                format!("a transaction was throttled or in progress {MAX_ATTEMPTS} times").into(),
            ),
        })
    }
}

/// One request's expressions: every attribute name becomes a `#nI` placeholder and every value a
/// `:vI` one, deduplicated. `now` is the second against which `expires_at` is judged.
struct Expr {
    now: i64,
    names: Vec<String>,
    values: Vec<AttributeValue>,
}

impl Expr {
    fn new(now: i64) -> Self {
        Self { now, names: Vec::new(), values: Vec::new() }
    }

    fn name(&mut self, name: &str) -> String {
        let i = self.names.iter().position(|n| n == name).unwrap_or_else(|| {
            self.names.push(name.to_owned());
            self.names.len() - 1
        });
        format!("#n{i}")
    }

    fn value(&mut self, value: Value) -> String {
        let value = attribute(&value);
        let i = self.values.iter().position(|v| *v == value).unwrap_or_else(|| {
            self.values.push(value);
            self.values.len() - 1
        });
        format!(":v{i}")
    }

    /// DynamoDB refuses empty placeholder maps.
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty())
            .then(|| self.names.iter().enumerate().map(|(i, n)| (format!("#n{i}"), n.clone())).collect())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty())
            .then(|| self.values.iter().enumerate().map(|(i, v)| (format!(":v{i}"), v.clone())).collect())
    }

    /// `expires_at` is at or before now. A comparison with a missing attribute, or one of another
    /// type, is false, so this is exactly [`Item::is_expired`].
    fn expired(&mut self) -> String {
        format!("{} <= {}", self.name(EXPIRES_AT), self.value(Value::N(self.now)))
    }

    /// No item, or one that has not expired. Written as a negation rather than
    /// `attribute_not_exists(e) OR e > now` so that a non-numeric `expires_at` counts as live, as
    /// in [`Item::is_expired`].
    fn live(&mut self) -> String {
        format!("NOT ({})", self.expired())
    }

    /// The condition as a `ConditionExpression` that holds exactly when [`Condition::holds`] does.
    fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::NotExists => format!("(attribute_not_exists({}) OR {})", self.name(PK), self.expired()),
            Condition::Exists => {
                format!("(attribute_exists({}) AND {})", self.name(PK), self.live())
            }
            Condition::VersionIs(v) => {
                format!("({} = {} AND {})", self.name(VERSION), self.value(Value::N(*v)), self.live())
            }
            Condition::AtLeast(name, min) => {
                format!("({} >= {} AND {})", self.name(name), self.value(Value::N(*min)), self.live())
            }
            Condition::Equals(name, value) => {
                format!("({} = {} AND {})", self.name(name), self.value(value.clone()), self.live())
            }
            // An empty conjunction holds; DynamoDB has no `true`, and a condition check needs one.
            Condition::And(all) if all.is_empty() => {
                format!("(attribute_exists({0}) OR attribute_not_exists({0}))", self.name(PK))
            }
            Condition::And(all) => {
                format!("({})", all.iter().map(|c| self.condition(c)).collect::<Vec<_>>().join(" AND "))
            }
        }
    }

    /// The update as an `UpdateExpression`, and a `ConditionExpression` that holds when the port's
    /// condition holds, the stored item is not expired (see the module docs) and no addition
    /// overflows an `i64` (DynamoDB's numbers would hold the result, which we could not read back).
    ///
    /// DynamoDB refuses two actions on one attribute, so the actions are first merged per
    /// attribute into the net effect [`Update::apply`] has: sets, then additions, then removals.
    fn update(&mut self, update: &Update) -> StoreResult<(String, String)> {
        enum Effect {
            Set(Value),
            Add(i64),
            Remove,
        }
        let overflow = |name: &str| StoreError::Invalid(format!("`{name}` would overflow"));
        let mut effects = BTreeMap::new();
        for (name, value) in &update.set {
            effects.insert(name.as_str(), Effect::Set(value.clone()));
        }
        for (name, delta) in &update.add {
            let effect = match effects.remove(name.as_str()) {
                Some(Effect::Set(Value::N(n))) => {
                    Effect::Set(Value::N(n.checked_add(*delta).ok_or_else(|| overflow(name))?))
                }
                Some(Effect::Set(_)) => Effect::Set(Value::N(*delta)),
                Some(Effect::Add(d)) => Effect::Add(d.checked_add(*delta).ok_or_else(|| overflow(name))?),
                Some(Effect::Remove) | None => Effect::Add(*delta),
            };
            effects.insert(name.as_str(), effect);
        }
        for name in &update.remove {
            effects.insert(name.as_str(), Effect::Remove);
        }
        if effects.contains_key(PK) || effects.contains_key(SK) {
            return Err(StoreError::Invalid(format!("an update of {} cannot change pk or sk", update.key)));
        }

        let mut condition: Vec<String> = update.condition.iter().map(|c| self.condition(c)).collect();
        condition.push(self.live());
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        for (name, effect) in effects {
            let n = self.name(name);
            match effect {
                Effect::Set(value) => set.push(format!("{n} = {}", self.value(value))),
                Effect::Add(delta) => {
                    set.push(format!(
                        "{n} = if_not_exists({n}, {}) + {}",
                        self.value(Value::N(0)),
                        self.value(Value::N(delta))
                    ));
                    // Missing counts as 0, which cannot overflow; the negation keeps that true.
                    match delta.signum() {
                        1 => condition.push(format!("NOT ({n} > {})", self.value(Value::N(i64::MAX - delta)))),
                        -1 => condition.push(format!("NOT ({n} < {})", self.value(Value::N(i64::MIN - delta)))),
                        _ => {}
                    }
                }
                Effect::Remove => remove.push(n),
            }
        }
        if set.is_empty() && remove.is_empty() {
            remove.push(self.name(NO_ATTRIBUTE));
        }
        let expression = [("SET", set), ("REMOVE", remove)]
            .into_iter()
            .filter(|(_, actions)| !actions.is_empty())
            .map(|(verb, actions)| format!("{verb} {}", actions.join(", ")))
            .collect::<Vec<_>>()
            .join(" ");
        Ok((expression, condition.join(" AND ")))
    }
}

/// What a failed `UpdateItem` means, judged from the item stored when it failed.
#[derive(Debug)]
enum UpdateFailure {
    /// Only the stored item's expiry stopped it, and the port's condition holds for an absent
    /// item: the update applies to a fresh item.
    Expired,
    /// The port's answer: the condition failed on the live item (or its absence), or an addition
    /// overflowed.
    Final(StoreError),
}

fn judge_failed_update(update: &Update, stored: Option<Item>, now: i64) -> UpdateFailure {
    let holds = |item: Option<&Item>| update.condition.as_ref().is_none_or(|c| c.holds(item, now));
    if stored.as_ref().is_some_and(|i| i.is_expired(now)) && holds(None) {
        return UpdateFailure::Expired;
    }
    let live = stored.filter(|i| !i.is_expired(now));
    if holds(live.as_ref()) {
        // The condition held, so the overflow guard must have failed; `apply` names the attribute.
        if let Err(err) = update.apply(live.as_ref(), now) {
            return UpdateFailure::Final(err);
        }
    }
    UpdateFailure::Final(StoreError::ConditionFailed { current: live.map(Box::new) })
}

/// What to do after DynamoDB cancelled a transaction.
#[derive(Debug, PartialEq, Eq)]
enum Cancellation {
    /// Some condition really failed: report these reasons.
    Final(Vec<Option<CancelReason>>),
    /// Only the expiry of updated items (or a revival of items we meant to recreate) stopped it:
    /// `fresh` now says how to send each update; try again at once.
    Rewritten,
    /// Only conflicts or throttling stopped it: back off and try again, reporting these reasons
    /// if that never succeeds.
    Transient(Vec<Option<CancelReason>>),
    /// A reason we do not model (a validation error, an item collection too large): a bug.
    Unexpected,
}

/// Reads a cancellation's reasons, one per write, and updates `fresh` where an update must be
/// sent as a put of a fresh item (its stored item is expired) or back as an update (a live item
/// appeared before our put).
///
/// # Errors
/// [`StoreError::Invalid`] when an update's addition would overflow.
fn judge_cancellation(
    writes: &[Write],
    fresh: &mut [bool],
    reasons: &[CancellationReason],
    now: i64,
) -> StoreResult<Cancellation> {
    if reasons.len() != writes.len() {
        return Ok(Cancellation::Unexpected);
    }
    let (mut failed, mut rewritten, mut transient) = (false, false, false);
    let mut out = Vec::with_capacity(writes.len());
    for ((write, fresh), reason) in writes.iter().zip(fresh.iter_mut()).zip(reasons) {
        out.push(match reason.code() {
            None | Some("None") => None,
            Some("TransactionConflict") => {
                transient = true;
                Some(CancelReason::Conflict)
            }
            Some(code) if TRANSIENT_REASONS.contains(&code) => {
                transient = true;
                None
            }
            Some("ConditionalCheckFailed") => match write {
                // Our put of a fresh item met a live item that appeared since: update that one.
                Write::Update { .. } if *fresh => {
                    *fresh = false;
                    rewritten = true;
                    None
                }
                Write::Update { update, .. } => {
                    let stored = reason.item().map(item_from).transpose()?;
                    match judge_failed_update(update, stored, now) {
                        UpdateFailure::Expired => {
                            *fresh = true;
                            rewritten = true;
                            None
                        }
                        UpdateFailure::Final(StoreError::ConditionFailed { .. }) => {
                            failed = true;
                            Some(CancelReason::ConditionFailed)
                        }
                        UpdateFailure::Final(err) => return Err(err),
                    }
                }
                _ => {
                    failed = true;
                    Some(CancelReason::ConditionFailed)
                }
            },
            Some(_) => return Ok(Cancellation::Unexpected),
        });
    }
    Ok(match (failed, rewritten, transient) {
        (true, _, _) => Cancellation::Final(out),
        (false, true, _) => Cancellation::Rewritten,
        (false, false, true) => Cancellation::Transient(out),
        (false, false, false) => Cancellation::Unexpected,
    })
}

/// A failed condition's error as the port sees it: an expired stored item is no item.
fn hide_expired(err: StoreError, now: i64) -> StoreError {
    match err {
        StoreError::ConditionFailed { current } => {
            StoreError::ConditionFailed { current: current.filter(|i| !i.is_expired(now)) }
        }
        other => other,
    }
}

/// A failed condition carrying the stored item as DynamoDB returned it.
fn condition_failed(stored: Option<&HashMap<String, AttributeValue>>) -> StoreError {
    match stored.map(item_from).transpose() {
        Ok(current) => StoreError::ConditionFailed { current: current.map(Box::new) },
        Err(err) => err,
    }
}

/// Throttling, timeouts and lost connections may be retried ([`StoreError::Unavailable`]), and
/// so may DynamoDB's own 5xx failures; the SDK has already retried them a few times by now.
/// Everything else is [`StoreError::Backend`].
fn sdk_error<E>(err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => {
            err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c)) || service.raw().status().is_server_error()
        }
        _ => false,
    };
    if transient { StoreError::Unavailable(Box::new(err)) } else { backend(err) }
}

fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(err))
}

fn malformed(what: String) -> StoreError {
    StoreError::Backend(what.into())
}

fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::Bool(b) => AttributeValue::Bool(*b),
    }
}

fn attributes(item: &Item) -> HashMap<String, AttributeValue> {
    item.0.iter().map(|(name, value)| (name.clone(), attribute(value))).collect()
}

fn key_attributes(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// An item read from a table. Another writer may have stored types the port does not have (a
/// list, a fraction): that is an error naming the attribute, never a panic or a silent loss.
fn item_from(attrs: &HashMap<String, AttributeValue>) -> StoreResult<Item> {
    let value = |name: &str, value: &AttributeValue| match value {
        AttributeValue::S(s) => Ok(Value::S(s.clone())),
        AttributeValue::N(n) => n
            .parse()
            .map(Value::N)
            .map_err(|_| malformed(format!("attribute `{name}` holds {n}, not a 64-bit integer"))),
        AttributeValue::Bool(b) => Ok(Value::Bool(*b)),
        _ => Err(malformed(format!("attribute `{name}` is not a string, number or boolean"))),
    };
    attrs.iter().map(|(name, v)| Ok((name.clone(), value(name, v)?))).collect::<StoreResult<_>>().map(Item)
}

fn page_key(key: &HashMap<String, AttributeValue>) -> StoreResult<PageKey> {
    let part = |(name, value): (&String, &AttributeValue)| match value {
        AttributeValue::S(s) => Ok((name.clone(), s.clone())),
        _ => Err(malformed(format!("key attribute `{name}` of a page key is not a string"))),
    };
    key.iter().map(part).collect::<StoreResult<_>>().map(PageKey)
}

/// The pause before retry `attempt` (from 0): doubling, capped, with "equal jitter" (half fixed,
/// half random) so that writers that collided once do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    jittered(backoff_ceiling_ms(attempt), random())
}

/// The pause before retry `attempt` doubles from the base up to the cap.
fn backoff_ceiling_ms(attempt: u32) -> u64 {
    BACKOFF_BASE_MS.saturating_mul(1 << attempt.min(16)).min(BACKOFF_MAX_MS)
}

/// "Equal jitter": somewhere in the upper half of `ceiling_ms`, both ends included, picked by `draw`.
/// The lower end rounds up so that an odd ceiling never pauses below half of it.
fn jittered(ceiling_ms: u64, draw: u64) -> Duration {
    let floor = ceiling_ms.div_ceil(2);
    Duration::from_millis(floor + draw % (ceiling_ms - floor + 1))
}

/// A fresh `ClientRequestToken` (at most 36 characters).
fn client_token() -> String {
    format!("{:016x}{:016x}", random(), random())
}

/// 64 random bits without a dependency: each `RandomState` is freshly keyed.
fn random() -> u64 {
    RandomState::new().hash_one(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000;

    fn key() -> Key {
        Key::new("P#1", "S#1")
    }

    fn stored(expires_at: Option<i64>) -> Item {
        let item = Item::new(&key()).with(VERSION, 3).with("stock", 5);
        match expires_at {
            Some(at) => item.with(EXPIRES_AT, at),
            None => item,
        }
    }

    /// The condition with its placeholders substituted back, for readable assertions.
    fn compiled(condition: &Condition) -> String {
        let mut x = Expr::new(NOW);
        let text = x.condition(condition);
        substitute(&x, text)
    }

    fn substitute(x: &Expr, mut text: String) -> String {
        // Longest placeholders first, so `#n1` does not eat the start of `#n10`.
        for (i, name) in x.names.iter().enumerate().rev() {
            text = text.replace(&format!("#n{i}"), name);
        }
        for (i, value) in x.values.iter().enumerate().rev() {
            let shown = match value {
                AttributeValue::S(s) => format!("'{s}'"),
                AttributeValue::N(n) => n.clone(),
                other => format!("{other:?}"),
            };
            text = text.replace(&format!(":v{i}"), &shown);
        }
        text
    }

    #[test]
    fn conditions_treat_expired_items_as_absent() {
        assert_eq!(compiled(&Condition::NotExists), "(attribute_not_exists(pk) OR expires_at <= 1000)");
        assert_eq!(compiled(&Condition::Exists), "(attribute_exists(pk) AND NOT (expires_at <= 1000))");
        assert_eq!(compiled(&Condition::VersionIs(3)), "(version = 3 AND NOT (expires_at <= 1000))");
        assert_eq!(compiled(&Condition::AtLeast("stock".into(), 2)), "(stock >= 2 AND NOT (expires_at <= 1000))");
        assert_eq!(
            compiled(&Condition::And(vec![Condition::Exists, Condition::Equals("status".into(), "paid".into())])),
            "((attribute_exists(pk) AND NOT (expires_at <= 1000)) AND (status = 'paid' AND NOT (expires_at <= 1000)))"
        );
    }

    #[test]
    fn an_empty_conjunction_compiles_to_a_condition_that_always_holds() {
        assert_eq!(compiled(&Condition::And(vec![])), "(attribute_exists(pk) OR attribute_not_exists(pk))");
    }

    #[test]
    fn every_name_and_value_goes_through_a_deduplicated_placeholder() {
        let mut x = Expr::new(NOW);
        let text = x.condition(&Condition::And(vec![
            Condition::Equals("status".into(), "paid".into()),
            Condition::VersionIs(3),
        ]));
        assert!(!text.contains("status") && !text.contains("paid"), "{text}");
        assert_eq!(x.names, ["status", "expires_at", "version"]);
        assert_eq!(
            x.values,
            [AttributeValue::S("paid".into()), AttributeValue::N("1000".into()), AttributeValue::N("3".into())]
        );
        assert_eq!(x.names().map(|m| m["#n0"].clone()).as_deref(), Some("status"));
        assert_eq!(Expr::new(NOW).names(), None, "DynamoDB refuses an empty map");
    }

    fn compiled_update(update: &Update) -> StoreResult<(String, String)> {
        let mut x = Expr::new(NOW);
        let (expression, condition) = x.update(update)?;
        Ok((substitute(&x, expression), substitute(&x, condition)))
    }

    #[test]
    fn an_update_compiles_to_the_net_effect_of_apply() {
        let update = Update::new(key())
            .set("status", "paid")
            .set("a", 7)
            .add("a", 2)
            .add("stock", -3)
            .add("stock", 1)
            .set("gone", true)
            .remove("gone")
            .when(Condition::VersionIs(3));
        let (expression, condition) = compiled_update(&update).expect("compiles");
        assert_eq!(expression, "SET a = 9, status = 'paid', stock = if_not_exists(stock, 0) + -2 REMOVE gone");
        assert_eq!(
            condition,
            "(version = 3 AND NOT (expires_at <= 1000)) AND NOT (expires_at <= 1000) AND NOT (stock < -9223372036854775806)"
        );
    }

    #[test]
    fn an_update_refuses_an_expired_item_and_guards_against_overflow() {
        let (expression, condition) = compiled_update(&Update::new(key()).add("n", 5)).expect("compiles");
        assert_eq!(expression, "SET n = if_not_exists(n, 0) + 5");
        assert_eq!(condition, "NOT (expires_at <= 1000) AND NOT (n > 9223372036854775802)");
    }

    #[test]
    fn an_update_that_changes_nothing_still_creates_a_missing_item() {
        let (expression, _) = compiled_update(&Update::new(key())).expect("compiles");
        assert_eq!(expression, format!("REMOVE {NO_ATTRIBUTE}"));
    }

    #[test]
    fn an_update_may_not_change_the_key_or_overflow_in_itself() {
        assert!(matches!(compiled_update(&Update::new(key()).set(SK, "other")), Err(StoreError::Invalid(_))));
        let overflowing = Update::new(key()).add("n", i64::MAX).add("n", 1);
        assert!(matches!(compiled_update(&overflowing), Err(StoreError::Invalid(m)) if m.contains("`n`")));
    }

    #[test]
    fn a_failed_update_of_an_expired_item_starts_from_a_fresh_item_when_the_condition_allows() {
        let expired = Some(stored(Some(NOW)));
        assert!(matches!(
            judge_failed_update(&Update::new(key()).add("stock", 1), expired.clone(), NOW),
            UpdateFailure::Expired
        ));
        let create = Update::new(key()).set("a", 1).when(Condition::NotExists);
        assert!(matches!(judge_failed_update(&create, expired.clone(), NOW), UpdateFailure::Expired));
        let versioned = Update::new(key()).add("stock", 1).when(Condition::VersionIs(3));
        assert!(matches!(
            judge_failed_update(&versioned, expired, NOW),
            UpdateFailure::Final(StoreError::ConditionFailed { current: None })
        ));
    }

    #[test]
    fn a_failed_update_of_a_live_item_reports_the_item_or_the_overflow() {
        let live = Some(stored(Some(NOW + 1)));
        let stale = Update::new(key()).add("stock", 1).when(Condition::VersionIs(2));
        assert!(matches!(
            judge_failed_update(&stale, live.clone(), NOW),
            UpdateFailure::Final(StoreError::ConditionFailed { current: Some(item) }) if item.n("stock") == Some(5)
        ));
        let overflowing = Update::new(key()).add("stock", i64::MAX);
        assert!(matches!(judge_failed_update(&overflowing, live, NOW), UpdateFailure::Final(StoreError::Invalid(_))));
    }

    fn reason(code: &str, stored: Option<&Item>) -> CancellationReason {
        let reason = CancellationReason::builder().code(code);
        match stored {
            Some(item) => reason.set_item(Some(attributes(item))).build(),
            None => reason.build(),
        }
    }

    fn put() -> Write {
        Write::Put {
            table: Table::Orders,
            item: Item::new(&Key::new("O#1", "O")),
            condition: Some(Condition::NotExists),
        }
    }

    fn add_stock() -> Write {
        Write::Update {
            table: Table::Catalog,
            update: Update::new(key()).add("stock", -1).when(Condition::AtLeast("stock".into(), 1)),
        }
    }

    #[test]
    fn cancellation_reasons_map_to_the_port_in_write_order() {
        let writes = [put(), add_stock()];
        let mut fresh = [false, false];
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(None).with("stock", 0)))];
        assert_eq!(
            judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"),
            Cancellation::Final(vec![None, Some(CancelReason::ConditionFailed)])
        );
    }

    #[test]
    fn a_transaction_cancelled_only_by_conflicts_is_retried() {
        let writes = [put(), add_stock()];
        let reasons = [reason("TransactionConflict", None), reason("None", None)];
        assert_eq!(
            judge_cancellation(&writes, &mut [false, false], &reasons, NOW).expect("judged"),
            Cancellation::Transient(vec![Some(CancelReason::Conflict), None])
        );
        let with_failure = [
            reason("TransactionConflict", None),
            reason("ConditionalCheckFailed", Some(&stored(None).with("stock", 0))),
        ];
        assert!(matches!(
            judge_cancellation(&writes, &mut [false, false], &with_failure, NOW),
            Ok(Cancellation::Final(_))
        ));
    }

    #[test]
    fn an_update_of_an_expired_item_in_a_transaction_is_resent_as_a_fresh_put() {
        let writes = [put(), Write::Update { table: Table::Carts, update: Update::new(key()).add("qty", 1) }];
        let mut fresh = [false, false];
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(Some(NOW - 5))))];
        assert_eq!(judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"), Cancellation::Rewritten);
        assert_eq!(fresh, [false, true]);
        // A live item appeared before the put: back to an update.
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(None)))];
        assert_eq!(judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"), Cancellation::Rewritten);
        assert_eq!(fresh, [false, false]);
    }

    #[test]
    fn an_unknown_cancellation_reason_is_not_mistaken_for_a_business_outcome() {
        let reasons = [reason("ValidationError", None), reason("None", None)];
        assert_eq!(
            judge_cancellation(&[put(), add_stock()], &mut [false, false], &reasons, NOW).expect("judged"),
            Cancellation::Unexpected
        );
    }

    #[test]
    fn attributes_round_trip_and_foreign_types_are_errors_not_panics() {
        let item = Item::new(&key()).with("n", -42).with("s", "").with("b", true);
        assert_eq!(item_from(&attributes(&item)).expect("reads back"), item);
        for foreign in [AttributeValue::N("1.5".into()), AttributeValue::Null(true), AttributeValue::L(vec![])] {
            let mut attrs = attributes(&item);
            attrs.insert("odd".into(), foreign);
            assert!(matches!(item_from(&attrs), Err(StoreError::Backend(e)) if e.to_string().contains("`odd`")));
        }
    }

    #[test]
    fn table_names_come_from_the_environment_or_a_prefix() {
        let vars = |missing: &str| {
            let missing = missing.to_owned();
            move |var: &str| (var != missing).then(|| var.to_lowercase())
        };
        let names = TableNames::from_vars(Table::ALL, vars("NONE")).expect("all set");
        assert_eq!(names.name(Table::Idempotency), "idempotency_table");
        let err = TableNames::from_vars(Table::ALL, vars("ORDERS_TABLE")).expect_err("one missing");
        assert_eq!(err.to_string(), "environment variable ORDERS_TABLE must name a DynamoDB table");
        // Only the tables a function uses are read: the others need no variable.
        let names = TableNames::from_vars([Table::Carts], vars("ORDERS_TABLE")).expect("carts only");
        assert_eq!((names.carts.as_str(), names.name(Table::Orders)), ("carts_table", ""));
        let access = [TableAccess { table: Table::Orders, actions: &[], index: false }];
        assert_eq!(TableNames::variables(&access), ["ORDERS_TABLE"]);
        assert_eq!(TableNames::with_prefix("t1").name(Table::Carts), "t1-carts");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let ceilings: Vec<u64> = (0..8).map(backoff_ceiling_ms).collect();
        assert_eq!(ceilings, [25, 50, 100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(backoff_ceiling_ms(u32::MAX), BACKOFF_MAX_MS);
        // The ends of the jitter, reached by the smallest and the largest draws: an odd ceiling
        // once let a draw of 0 pause 12 ms under a 25 ms ceiling, below half of it.
        assert_eq!(jittered(0, u64::MAX), Duration::ZERO);
        for ceiling in [1, 25, 50, 1_000] {
            let half = Duration::from_millis(ceiling) / 2;
            let lowest = jittered(ceiling, 0);
            let highest = jittered(ceiling, ceiling - ceiling.div_ceil(2));
            assert!(lowest >= half, "ceiling {ceiling}: {lowest:?}");
            assert_eq!(highest, Duration::from_millis(ceiling));
            assert!(jittered(ceiling, u64::MAX) <= Duration::from_millis(ceiling));
        }
        for attempt in 0..40 {
            let ceiling = Duration::from_millis(backoff_ceiling_ms(attempt));
            let pause = backoff(attempt);
            assert!(pause >= ceiling / 2 && pause <= ceiling, "attempt {attempt}: {pause:?}");
        }
        assert_ne!(client_token(), client_token());
        assert!(client_token().len() <= 36);
    }
}
