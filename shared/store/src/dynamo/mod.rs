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
//! One concern a file:
//! - this file: [`DynamoStore`], each port operation as its requests, and their retries;
//! - `names`: [`TableNames`], the physical table names;
//! - `tables`: [`local_client`] and [`DynamoStore::create_tables`], what a local run needs;
//! - `expr`: conditions and updates compiled to DynamoDB expressions;
//! - `failures`: what a refused request, an expired item or a cancelled transaction means;
//! - `convert`: items and keys to attribute maps and back.

mod convert;
mod expr;
mod failures;
mod names;
mod tables;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use nanoshop_retry::{Backoff, Jitter};

use self::convert::{attributes, item_from, key_attributes, page_key};
use self::expr::Expr;
use self::failures::{
    Cancellation, UpdateFailure, backend, condition_failed, hide_expired, judge_cancellation, judge_failed_update,
    malformed, sdk_error,
};
pub use self::names::{MissingTableName, TableNames};
pub use self::tables::local_client;
use crate::port::{
    CancelReason, Condition, GSI1_PK, GSI1_SK, Item, Key, MAX_QUERY_LIMIT, PK, Query, QueryPage, SK, Store, StoreError,
    StoreResult, Table, Update, Value, Write, check_batch, check_query, check_transaction, now_unix,
};

/// DynamoDB's limit on the keys of one `BatchGetItem`.
const BATCH_GET_MAX_KEYS: usize = 100;
/// Attempts at a request DynamoDB answered only in part (unprocessed keys), cancelled for
/// conflicts, or found in progress, before giving up.
const MAX_ATTEMPTS: u32 = 8;
/// The pause between those attempts: doubling from 25 ms up to 1 s, with "equal jitter" (half
/// fixed, half random) so that writers that collided once do not collide again in step.
const BACKOFF: Backoff =
    Backoff::doubling(Duration::from_millis(25), Duration::from_secs(1)).with_jitter(Jitter::UpperHalf);
/// How long the cold-start warm-up call may take before start-up goes on without it.
const WARM_TIMEOUT: Duration = Duration::from_secs(1);

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
        // The first table the function was given (the catalog, for every function that reads it):
        // a function is granted `DescribeTable` only on a table it has.
        let table = Table::ALL.into_iter().map(|t| self.names.name(t)).find(|n| !n.is_empty()).unwrap_or_default();
        let result = self.client.describe_table().table_name(table).customize().config_override(once).send().await;
        if let Err(err) = result {
            tracing::debug!(error = %DisplayErrorContext(&err), "warm-up DescribeTable failed");
        }
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
                    BACKOFF.sleep(attempt - 1).await;
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

    /// One `BatchGetItem` naming every table asked (per 100 keys), its unprocessed keys asked
    /// again as [`Store::batch_get`] does.
    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        let asked: Vec<Table> = Table::ALL.into_iter().filter(|t| keys.iter().any(|(k, _)| k == t)).collect();
        for table in &asked {
            let of: Vec<Key> = keys.iter().filter(|(t, _)| t == table).map(|(_, k)| k.clone()).collect();
            check_batch(&of)?;
        }
        let table_of = |name: &str| asked.iter().copied().find(|t| self.names.name(*t) == name);
        // Two roles attached to one physical table would make an answer's table ambiguous.
        let distinct: std::collections::BTreeSet<&str> = asked.iter().map(|t| self.names.name(*t)).collect();
        if distinct.len() != asked.len() {
            let mut found = Vec::new();
            for table in asked {
                let of: Vec<Key> = keys.iter().filter(|(t, _)| *t == table).map(|(_, k)| k.clone()).collect();
                found.extend(self.batch_get(table, &of).await?.into_iter().map(|item| (table, item)));
            }
            return Ok(crate::port::in_order_of(keys, found));
        }
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
            let mut pending: HashMap<String, Vec<HashMap<String, AttributeValue>>> = HashMap::new();
            for (table, key) in chunk {
                pending.entry(self.names.name(*table).to_owned()).or_default().push(key_attributes(key));
            }
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt == MAX_ATTEMPTS {
                    return Err(StoreError::Unavailable(
                        format!("DynamoDB left keys unprocessed {MAX_ATTEMPTS} times").into(),
                    ));
                }
                if attempt > 0 {
                    BACKOFF.sleep(attempt - 1).await;
                }
                let mut request = HashMap::with_capacity(pending.len());
                for (name, keys) in pending.drain() {
                    let asked = KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build();
                    request.insert(name, asked.map_err(backend)?);
                }
                let out =
                    self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(sdk_error)?;
                for (name, items) in out.responses.unwrap_or_default() {
                    let table = table_of(&name).ok_or_else(|| malformed(format!("an answer from unasked {name}")))?;
                    for attrs in items {
                        found.push((table, item_from(&attrs)?));
                    }
                }
                pending = out
                    .unprocessed_keys
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, k)| (name, k.keys))
                    .filter(|(_, k)| !k.is_empty())
                    .collect();
                attempt += 1;
            }
        }
        let now = now_unix();
        found.retain(|(_, item)| !item.is_expired(now));
        Ok(crate::port::in_order_of(keys, found))
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
                            BACKOFF.sleep(attempt).await;
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
                    BACKOFF.sleep(attempt).await;
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

    #[test]
    fn client_tokens_are_fresh_and_short_enough() {
        assert_ne!(client_token(), client_token());
        assert!(client_token().len() <= 36);
    }
}
