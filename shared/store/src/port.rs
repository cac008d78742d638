//! The storage port: the handful of DynamoDB operations nanoshop's functions really use, shaped so
//! that an in-process adapter can honour exactly the same contract.
//!
//! Items are flat maps of attributes. Conventions every adapter and repository shares:
//! - `pk` and `sk` (strings) are the primary key of every table;
//! - `gsi1pk` and `gsi1sk` (strings), when present, place the item in the table's one secondary
//!   index, [`Index::Gsi1`];
//! - `expires_at` (number, Unix seconds), when present, is the item's TTL: from that second on the
//!   item is treated as absent by every read *and* every condition, whether or not the backend has
//!   deleted it yet (DynamoDB deletes expired items days late);
//! - `version` (number) is the optimistic-concurrency counter; writes that depend on a read carry
//!   [`Condition::VersionIs`].

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const EXPIRES_AT: &str = "expires_at";
pub const VERSION: &str = "version";

/// DynamoDB's limit on the operations of one `TransactWriteItems`.
pub const MAX_TRANSACTION_OPS: usize = 100;
/// DynamoDB's limit on the items returned by one `Query` page.
pub const MAX_QUERY_LIMIT: u32 = 1000;

/// The four tables, one per aggregate. Their physical names come from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Products, variants, stock, categories, settings, discounts.
    Catalog,
    /// Carts and their lines.
    Carts,
    /// Orders, order lines, reservations, the order outbox.
    Orders,
    /// API idempotency records and processed Stripe event ids.
    Idempotency,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Catalog, Table::Carts, Table::Orders, Table::Idempotency];

    pub fn as_str(self) -> &'static str {
        match self {
            Table::Catalog => "catalog",
            Table::Carts => "carts",
            Table::Orders => "orders",
            Table::Idempotency => "idempotency",
        }
    }
}

/// The table's one global secondary index, keyed by `gsi1pk` / `gsi1sk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Index {
    Gsi1,
}

impl Index {
    pub fn name(self) -> &'static str {
        "gsi1"
    }
}

/// An attribute value. Deliberately small: strings, integers and booleans. Structured data is a
/// JSON document in a string attribute; anything a condition or a counter needs is its own
/// attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    S(String),
    N(i64),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::S(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::S(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::N(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

/// One stored item: its attributes, including `pk` and `sk`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item(pub BTreeMap<String, Value>);

impl Item {
    pub fn new(key: &Key) -> Self {
        let mut attrs = BTreeMap::new();
        attrs.insert(PK.to_owned(), Value::S(key.pk.clone()));
        attrs.insert(SK.to_owned(), Value::S(key.sk.clone()));
        Self(attrs)
    }

    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn s(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Value::S(s)) => Some(s),
            _ => None,
        }
    }

    pub fn n(&self, name: &str) -> Option<i64> {
        match self.0.get(name) {
            Some(Value::N(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.0.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The item's key; `None` only for an item built without one (a programming error).
    pub fn key(&self) -> Option<Key> {
        Some(Key::new(self.s(PK)?, self.s(SK)?))
    }

    /// Whether the item's TTL has passed at `now` (Unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.n(EXPIRES_AT).is_some_and(|at| at <= now)
    }
}

/// A condition a write requires of the item as it is when the write applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// No live item has this key (an expired one counts as absent).
    NotExists,
    /// A live item has this key.
    Exists,
    /// A live item exists and its `version` equals this.
    VersionIs(i64),
    /// A live item exists and its numeric attribute is at least this.
    AtLeast(String, i64),
    /// A live item exists and its attribute equals this value.
    Equals(String, Value),
    /// Every condition holds.
    And(Vec<Condition>),
}

impl Condition {
    /// Evaluates the condition against the current item, as the backend would.
    pub fn holds(&self, current: Option<&Item>, now: i64) -> bool {
        let live = current.filter(|i| !i.is_expired(now));
        match self {
            Condition::NotExists => live.is_none(),
            Condition::Exists => live.is_some(),
            Condition::VersionIs(v) => live.and_then(|i| i.n(VERSION)) == Some(*v),
            Condition::AtLeast(name, min) => live.and_then(|i| i.n(name)).is_some_and(|n| n >= *min),
            Condition::Equals(name, value) => live.and_then(|i| i.get(name)) == Some(value),
            Condition::And(all) => all.iter().all(|c| c.holds(current, now)),
        }
    }
}

/// A partial update of one item: set attributes, add to numeric ones (absent counts as 0), remove
/// attributes. Like DynamoDB's `UpdateItem`, an update of a missing item creates it unless the
/// condition forbids that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub key: Key,
    pub set: Vec<(String, Value)>,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
    pub condition: Option<Condition>,
}

impl Update {
    pub fn new(key: Key) -> Self {
        Self { key, set: Vec::new(), add: Vec::new(), remove: Vec::new(), condition: None }
    }

    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set.push((name.to_owned(), value.into()));
        self
    }

    #[must_use]
    pub fn add(mut self, name: &str, delta: i64) -> Self {
        self.add.push((name.to_owned(), delta));
        self
    }

    #[must_use]
    pub fn remove(mut self, name: &str) -> Self {
        self.remove.push(name.to_owned());
        self
    }

    #[must_use]
    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }

    /// Applies the update to `current` (or to a fresh item with the key), as the backend would.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when an addition overflows.
    pub fn apply(&self, current: Option<&Item>, now: i64) -> Result<Item, StoreError> {
        let mut item = current.filter(|i| !i.is_expired(now)).cloned().unwrap_or_else(|| Item::new(&self.key));
        for (name, value) in &self.set {
            item.set(name, value.clone());
        }
        for (name, delta) in &self.add {
            let n = item
                .n(name)
                .unwrap_or(0)
                .checked_add(*delta)
                .ok_or_else(|| StoreError::Invalid(format!("`{name}` would overflow")))?;
            item.set(name, n);
        }
        for name in &self.remove {
            item.0.remove(name);
        }
        Ok(item)
    }
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put {
        table: Table,
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        table: Table,
        update: Update,
    },
    Delete {
        table: Table,
        key: Key,
        condition: Option<Condition>,
    },
    /// Writes nothing; the transaction applies only if the condition holds.
    Check {
        table: Table,
        key: Key,
        condition: Condition,
    },
}

impl Write {
    pub fn table(&self) -> Table {
        match self {
            Write::Put { table, .. }
            | Write::Update { table, .. }
            | Write::Delete { table, .. }
            | Write::Check { table, .. } => *table,
        }
    }

    pub fn key(&self) -> Option<Key> {
        match self {
            Write::Put { item, .. } => item.key(),
            Write::Update { update, .. } => Some(update.key.clone()),
            Write::Delete { key, .. } | Write::Check { key, .. } => Some(key.clone()),
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Write::Put { condition, .. } | Write::Delete { condition, .. } => condition.as_ref(),
            Write::Update { update, .. } => update.condition.as_ref(),
            Write::Check { condition, .. } => Some(condition),
        }
    }
}

/// Where a query page starts: the key of the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageKey(pub BTreeMap<String, String>);

impl PageKey {
    /// The key to resume a query of `index` (or of the table) right after `item`, as DynamoDB's
    /// `LastEvaluatedKey` would name it: the table key, plus the index key for index queries.
    pub fn after(item: &Item, index: Option<Index>) -> Self {
        let names: &[&str] = match index {
            None => &[PK, SK],
            Some(Index::Gsi1) => &[PK, SK, GSI1_PK, GSI1_SK],
        };
        PageKey(names.iter().filter_map(|n| Some(((*n).to_owned(), item.s(n)?.to_owned()))).collect())
    }
}

/// A query of one partition of a table or of its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub table: Table,
    pub index: Option<Index>,
    /// The partition: `pk`, or `gsi1pk` when querying the index.
    pub partition: String,
    /// Only sort keys starting with this.
    pub sort_prefix: Option<String>,
    /// Newest (largest sort key) first when true.
    pub descending: bool,
    /// At most this many items per page, 1 to [`MAX_QUERY_LIMIT`].
    pub limit: u32,
    /// Continue after this key, from a previous page's `next`.
    pub after: Option<PageKey>,
}

impl Query {
    pub fn new(table: Table, partition: impl Into<String>) -> Self {
        Self {
            table,
            index: None,
            partition: partition.into(),
            sort_prefix: None,
            descending: false,
            limit: 100,
            after: None,
        }
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryPage {
    pub items: Vec<Item>,
    /// Where the next page starts; `None` when there is nothing more. A page may hold fewer than
    /// `limit` items (even none) and still have a `next`, because expired items are filtered out
    /// after the limit applies, as in DynamoDB.
    pub next: Option<PageKey>,
}

/// Why a transaction was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancelReason {
    /// The write's condition did not hold.
    ConditionFailed,
    /// Another transaction was touching the same item; retrying may succeed.
    Conflict,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A single write's condition did not hold; nothing was written. `current` is the item as it
    /// was (when the backend returned it), so callers can tell "exists" from "stale version".
    #[error("condition failed")]
    ConditionFailed { current: Option<Box<Item>> },
    /// A transaction was cancelled; nothing was written. `reasons[i]` is why write `i` failed,
    /// `None` for writes that were fine.
    #[error("transaction cancelled: {reasons:?}")]
    TransactionCancelled { reasons: Vec<Option<CancelReason>> },
    /// The backend is throttling or unavailable; the operation may be retried.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request itself is wrong (too many writes, an item without a key, overflow): a bug.
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// Anything else the backend reported.
    #[error("storage backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// The index of the first write whose condition failed, for a cancelled transaction.
    pub fn failed_condition(&self) -> Option<usize> {
        match self {
            StoreError::TransactionCancelled { reasons } => {
                reasons.iter().position(|r| *r == Some(CancelReason::ConditionFailed))
            }
            _ => None,
        }
    }

    pub fn is_condition_failed(&self) -> bool {
        matches!(self, StoreError::ConditionFailed { .. })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The storage capability every function's repositories are written against.
///
/// Reads are strongly consistent on tables (index queries are eventually consistent, as in
/// DynamoDB). Expired items are never returned.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// The live item with this key, if any.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Backend`].
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>>;

    /// The live items among `keys`, in the order of `keys`, missing ones left out. Any number of
    /// keys; adapters split them into the backend's batches and retry unprocessed keys.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for duplicate keys; otherwise as [`Store::get`].
    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>>;

    /// The live items among `keys`, which may be of several tables, in the order of `keys`,
    /// missing ones left out: what one DynamoDB `BatchGetItem` reads across tables, so a request
    /// that needs items of two tables (checkout's idempotency record and cart) pays one round
    /// trip. This default asks each table in turn with [`Store::batch_get`]; the DynamoDB
    /// adapter asks once, and wrappers pass the call on whole.
    ///
    /// # Errors
    /// As [`Store::batch_get`].
    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        let mut found: Vec<(Table, Item)> = Vec::with_capacity(keys.len());
        for table in Table::ALL {
            let of: Vec<Key> = keys.iter().filter(|(t, _)| *t == table).map(|(_, k)| k.clone()).collect();
            if !of.is_empty() {
                found.extend(self.batch_get(table, &of).await?.into_iter().map(|item| (table, item)));
            }
        }
        Ok(in_order_of(keys, found))
    }

    /// One page of a partition, in sort-key order (or reversed).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a limit outside 1..=[`MAX_QUERY_LIMIT`]; otherwise as [`Store::get`].
    async fn query(&self, query: &Query) -> StoreResult<QueryPage>;

    /// Writes the whole item, replacing any existing one, if `condition` holds.
    ///
    /// # Errors
    /// [`StoreError::ConditionFailed`] with the current item when the condition does not hold.
    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()>;

    /// Applies a partial update if its condition holds, and returns the item as it is afterwards.
    ///
    /// # Errors
    /// [`StoreError::ConditionFailed`] with the current item when the condition does not hold.
    async fn update(&self, table: Table, update: Update) -> StoreResult<Item>;

    /// Deletes the item if `condition` holds. Deleting a missing item without a condition is fine.
    ///
    /// # Errors
    /// [`StoreError::ConditionFailed`] with the current item when the condition does not hold.
    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()>;

    /// Applies up to [`MAX_TRANSACTION_OPS`] writes, on distinct items, all or none. Transactions
    /// cancelled only by conflicts with concurrent transactions are retried inside the adapter.
    ///
    /// # Errors
    /// [`StoreError::TransactionCancelled`] naming each failed condition;
    /// [`StoreError::Invalid`] for an empty or oversized transaction, or two writes on one item.
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()>;
}

/// `found` (items of several tables) in the order of `keys`, for [`Store::batch_get_across`].
pub fn in_order_of(keys: &[(Table, Key)], found: Vec<(Table, Item)>) -> Vec<(Table, Item)> {
    let mut by_key: BTreeMap<(Table, Key), Item> =
        found.into_iter().filter_map(|(table, item)| Some(((table, item.key()?), item))).collect();
    keys.iter().filter_map(|(table, key)| by_key.remove(&(*table, key.clone())).map(|item| (*table, item))).collect()
}

/// Checks what every adapter refuses before talking to its backend.
///
/// # Errors
/// [`StoreError::Invalid`] describing the problem.
pub fn check_transaction(writes: &[Write]) -> StoreResult<()> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction has 1 to {MAX_TRANSACTION_OPS} writes, not {}",
            writes.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for w in writes {
        let key = w.key().ok_or_else(|| StoreError::Invalid("a written item has no pk/sk".into()))?;
        if !seen.insert((w.table(), key.clone())) {
            return Err(StoreError::Invalid(format!("two writes on {} {key} in one transaction", w.table().as_str())));
        }
    }
    Ok(())
}

/// Checks a query before it runs.
///
/// # Errors
/// [`StoreError::Invalid`] for a limit outside 1..=[`MAX_QUERY_LIMIT`].
pub fn check_query(query: &Query) -> StoreResult<()> {
    if query.limit == 0 || query.limit > MAX_QUERY_LIMIT {
        return Err(StoreError::Invalid(format!("query limit must be 1 to {MAX_QUERY_LIMIT}")));
    }
    Ok(())
}

/// Checks a batch get's keys.
///
/// # Errors
/// [`StoreError::Invalid`] for duplicate keys, which DynamoDB refuses.
pub fn check_batch(keys: &[Key]) -> StoreResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = keys.iter().find(|k| !seen.insert(*k)) {
        return Err(StoreError::Invalid(format!("key {dup} requested twice")));
    }
    Ok(())
}

/// The current time in Unix seconds, the unit of `expires_at`.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A DynamoDB action a function performs, as IAM names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    GetItem,
    BatchGetItem,
    Query,
    PutItem,
    UpdateItem,
    DeleteItem,
    /// The `Check` writes of a transaction.
    ConditionCheckItem,
    /// The cold-start warm-up call.
    DescribeTable,
    /// Reading the table's stream: what a Lambda event source mapping does with the function's
    /// role (IAM grants these on the stream, not the table; see [`Action::on_stream`]).
    DescribeStream,
    GetRecords,
    GetShardIterator,
    ListStreams,
}

impl Action {
    /// The IAM action name, `dynamodb:GetItem`.
    pub fn iam(self) -> &'static str {
        match self {
            Action::GetItem => "dynamodb:GetItem",
            Action::BatchGetItem => "dynamodb:BatchGetItem",
            Action::Query => "dynamodb:Query",
            Action::PutItem => "dynamodb:PutItem",
            Action::UpdateItem => "dynamodb:UpdateItem",
            Action::DeleteItem => "dynamodb:DeleteItem",
            Action::ConditionCheckItem => "dynamodb:ConditionCheckItem",
            Action::DescribeTable => "dynamodb:DescribeTable",
            Action::DescribeStream => "dynamodb:DescribeStream",
            Action::GetRecords => "dynamodb:GetRecords",
            Action::GetShardIterator => "dynamodb:GetShardIterator",
            Action::ListStreams => "dynamodb:ListStreams",
        }
    }

    /// Whether IAM grants the action on the table's stream rather than on the table.
    pub fn on_stream(self) -> bool {
        matches!(self, Action::DescribeStream | Action::GetRecords | Action::GetShardIterator | Action::ListStreams)
    }
}

/// What a function does to one table: the one declared list its IAM policy is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableAccess {
    pub table: Table,
    pub actions: &'static [Action],
    /// Whether it queries the table's index (IAM needs the index ARN too).
    pub index: bool,
}
