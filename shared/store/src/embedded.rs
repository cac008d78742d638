//! The embedded adapter: every table in one ordered map in memory, optionally persisted to a redb
//! file so `nanoshop serve` keeps its data across restarts.
//!
//! One mutex serialises all writes, which makes conditional writes and transactions trivially
//! atomic; a write reaches the file before it reaches memory, so memory is never ahead of disk.
//! That is the right trade for a single local process; it is not a server.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::port::{
    self, CancelReason, Condition, GSI1_PK, GSI1_SK, Index, Item, Key, PK, PageKey, Query, QueryPage, SK, Store,
    StoreError, StoreResult, Table, Update, Write, check_batch, check_query, check_transaction,
};

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");

type Slot = (Table, Key);

/// An in-process [`Store`].
pub struct EmbeddedStore {
    items: Mutex<BTreeMap<Slot, Item>>,
    file: Option<redb::Database>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("persistent", &self.file.is_some()).finish_non_exhaustive()
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// The file key of an item: table, pk and sk joined by NUL, which no key contains.
fn file_key((table, key): &Slot) -> String {
    format!("{}\0{}\0{}", table.as_str(), key.pk, key.sk)
}

impl EmbeddedStore {
    /// A store that lives only in memory, for tests.
    pub fn in_memory() -> Self {
        Self { items: Mutex::new(BTreeMap::new()), file: None }
    }

    /// A store persisted to `path` (created if missing), with everything already in it loaded.
    ///
    /// # Errors
    /// The file cannot be opened or holds something else.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let db = redb::Database::create(path).map_err(backend)?;
        let mut items = BTreeMap::new();
        {
            let txn = db.begin_read().map_err(backend)?;
            match txn.open_table(ITEMS) {
                Ok(table) => {
                    for entry in table.iter().map_err(backend)? {
                        let (k, v) = entry.map_err(backend)?;
                        let item: Item = serde_json::from_slice(v.value()).map_err(backend)?;
                        let table =
                            Table::ALL
                                .into_iter()
                                .find(|t| k.value().split('\0').next() == Some(t.as_str()))
                                .ok_or_else(|| StoreError::Invalid(format!("unknown table in {}", path.display())))?;
                        let key = item.key().ok_or_else(|| StoreError::Invalid("stored item without a key".into()))?;
                        items.insert((table, key), item);
                    }
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(Self { items: Mutex::new(items), file: Some(db) })
    }

    /// Every stored item, expired or not, in key order: lets tests prove a request changed nothing.
    pub fn snapshot(&self) -> Vec<(Table, Item)> {
        self.lock().iter().map(|((t, _), i)| (*t, i.clone())).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Slot, Item>> {
        // A panic while holding the lock cannot leave a half-applied write behind: changes are
        // computed first and applied in one step, so the map is consistent even if poisoned.
        self.items.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes `changes` durable (when persistent), then applies them to memory.
    fn commit(&self, items: &mut BTreeMap<Slot, Item>, changes: Vec<(Slot, Option<Item>)>) -> StoreResult<()> {
        if let Some(db) = &self.file {
            let txn = db.begin_write().map_err(backend)?;
            {
                let mut table = txn.open_table(ITEMS).map_err(backend)?;
                for (slot, item) in &changes {
                    let key = file_key(slot);
                    match item {
                        Some(item) => {
                            let bytes = serde_json::to_vec(item).map_err(backend)?;
                            table.insert(key.as_str(), bytes.as_slice()).map_err(backend)?;
                        }
                        None => {
                            table.remove(key.as_str()).map_err(backend)?;
                        }
                    }
                }
            }
            txn.commit().map_err(backend)?;
        }
        for (slot, item) in changes {
            match item {
                Some(item) => items.insert(slot, item),
                None => items.remove(&slot),
            };
        }
        Ok(())
    }

    fn live(items: &BTreeMap<Slot, Item>, slot: &Slot, now: i64) -> Option<Item> {
        items.get(slot).filter(|i| !i.is_expired(now)).cloned()
    }
}

fn condition_failed(current: Option<&Item>, now: i64) -> StoreError {
    StoreError::ConditionFailed { current: current.filter(|i| !i.is_expired(now)).cloned().map(Box::new) }
}

fn check(condition: Option<&Condition>, current: Option<&Item>, now: i64) -> StoreResult<()> {
    match condition {
        Some(c) if !c.holds(current, now) => Err(condition_failed(current, now)),
        _ => Ok(()),
    }
}

fn slot_of(table: Table, item: &Item) -> StoreResult<Slot> {
    Ok((table, item.key().ok_or_else(|| StoreError::Invalid("item has no pk/sk".into()))?))
}

/// The change one write makes, if its condition holds against `items`.
fn plan(items: &BTreeMap<Slot, Item>, write: &Write, now: i64) -> StoreResult<Option<(Slot, Option<Item>)>> {
    let slot = (write.table(), write.key().ok_or_else(|| StoreError::Invalid("write has no key".into()))?);
    let current = items.get(&slot);
    check(write.condition(), current, now)?;
    Ok(match write {
        Write::Put { item, .. } => Some((slot, Some(item.clone()))),
        Write::Update { update, .. } => Some((slot, Some(update.apply(current, now)?))),
        Write::Delete { .. } => Some((slot, None)),
        Write::Check { .. } => None,
    })
}

/// The sort key an item has in `index` (or in the table), if it is in it at all.
fn position(item: &Item, index: Option<Index>) -> Option<(String, String)> {
    let (pk, sk) = match index {
        None => (PK, SK),
        Some(Index::Gsi1) => (GSI1_PK, GSI1_SK),
    };
    Some((item.s(pk)?.to_owned(), item.s(sk)?.to_owned()))
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        Ok(Self::live(&self.lock(), &(table, key.clone()), port::now_unix()))
    }

    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        check_batch(keys)?;
        let now = port::now_unix();
        let items = self.lock();
        Ok(keys.iter().filter_map(|k| Self::live(&items, &(table, k.clone()), now)).collect())
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        check_query(query)?;
        let now = port::now_unix();
        let items = self.lock();
        // The order an index sorts by: its own key, then the table key to break ties, as DynamoDB.
        let mut matching: Vec<((String, String, String), &Item)> = items
            .range((query.table, Key::new("", ""))..)
            .take_while(|((t, _), _)| *t == query.table)
            .filter_map(|((_, key), item)| {
                let (pk, sk) = position(item, query.index)?;
                let prefix_ok = query.sort_prefix.as_deref().is_none_or(|p| sk.starts_with(p));
                (pk == query.partition && prefix_ok).then(|| ((sk, key.pk.clone(), key.sk.clone()), item))
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        if query.descending {
            matching.reverse();
        }
        let start = match &query.after {
            None => 0,
            Some(after) => {
                matching.iter().position(|(_, item)| PageKey::after(item, query.index) == *after).map_or_else(
                    // The start item is gone: resume at the first item past where it was.
                    || {
                        let sort_of = |pk: &PageKey| {
                            let sk_name = if query.index.is_some() { GSI1_SK } else { SK };
                            (
                                pk.0.get(sk_name).cloned().unwrap_or_default(),
                                pk.0.get(PK).cloned().unwrap_or_default(),
                                pk.0.get(SK).cloned().unwrap_or_default(),
                            )
                        };
                        let after = sort_of(after);
                        matching
                            .iter()
                            .position(|(k, _)| if query.descending { *k < after } else { *k > after })
                            .unwrap_or(matching.len())
                    },
                    |i| i + 1,
                )
            }
        };
        let limit = query.limit as usize;
        let window = &matching[start.min(matching.len())..];
        let page = &window[..limit.min(window.len())];
        let next =
            (window.len() > limit).then(|| page.last().map(|(_, item)| PageKey::after(item, query.index))).flatten();
        Ok(QueryPage {
            items: page.iter().filter(|(_, i)| !i.is_expired(now)).map(|(_, i)| (*i).clone()).collect(),
            next,
        })
    }

    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        let now = port::now_unix();
        let slot = slot_of(table, &item)?;
        let mut items = self.lock();
        check(condition.as_ref(), items.get(&slot), now)?;
        self.commit(&mut items, vec![(slot, Some(item))])
    }

    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        let now = port::now_unix();
        let slot = (table, update.key.clone());
        let mut items = self.lock();
        let current = items.get(&slot);
        check(update.condition.as_ref(), current, now)?;
        let updated = update.apply(current, now)?;
        self.commit(&mut items, vec![(slot, Some(updated.clone()))])?;
        Ok(updated)
    }

    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        let now = port::now_unix();
        let slot = (table, key.clone());
        let mut items = self.lock();
        check(condition.as_ref(), items.get(&slot), now)?;
        self.commit(&mut items, vec![(slot, None)])
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        check_transaction(&writes)?;
        let now = port::now_unix();
        let mut items = self.lock();
        let mut reasons = Vec::with_capacity(writes.len());
        let mut changes = Vec::with_capacity(writes.len());
        for write in &writes {
            match plan(&items, write, now) {
                Ok(change) => {
                    reasons.push(None);
                    changes.extend(change);
                }
                Err(StoreError::ConditionFailed { .. }) => reasons.push(Some(CancelReason::ConditionFailed)),
                Err(e) => return Err(e),
            }
        }
        if reasons.iter().any(Option::is_some) {
            return Err(StoreError::TransactionCancelled { reasons });
        }
        self.commit(&mut items, changes)
    }
}
