//! A [`Store`] decorator that counts round trips per operation, so tests can pin how many calls an
//! endpoint makes and benchmarks can report them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::port::{Condition, Item, Key, Query, QueryPage, Store, StoreResult, Table, Update, Write};

/// Round trips made through a [`CountingStore`], by operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub get: u64,
    /// Calls of `batch_get`, not backend batches: a batch of 250 keys is one call here and three
    /// `BatchGetItem` requests in DynamoDB.
    pub batch_get: u64,
    pub query: u64,
    pub put: u64,
    pub update: u64,
    pub delete: u64,
    pub transact: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.get + self.batch_get + self.query + self.put + self.update + self.delete + self.transact
    }

    pub fn reads(&self) -> u64 {
        self.get + self.batch_get + self.query
    }

    pub fn writes(&self) -> u64 {
        self.put + self.update + self.delete + self.transact
    }
}

#[derive(Debug, Default)]
struct Counters {
    get: AtomicU64,
    batch_get: AtomicU64,
    query: AtomicU64,
    put: AtomicU64,
    update: AtomicU64,
    delete: AtomicU64,
    transact: AtomicU64,
}

/// Wraps another store and counts every call that reaches it.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn Store>,
    counters: Counters,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, counters: Counters::default() }
    }

    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            get: load(&c.get),
            batch_get: load(&c.batch_get),
            query: load(&c.query),
            put: load(&c.put),
            update: load(&c.update),
            delete: load(&c.delete),
            transact: load(&c.transact),
        }
    }

    /// The counts so far, and zero from here on.
    pub fn take(&self) -> Counts {
        let counts = self.counts();
        let c = &self.counters;
        for a in [&c.get, &c.batch_get, &c.query, &c.put, &c.update, &c.delete, &c.transact] {
            a.store(0, Ordering::Relaxed);
        }
        counts
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        bump(&self.counters.get);
        self.inner.get(table, key).await
    }

    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        bump(&self.counters.batch_get);
        self.inner.batch_get(table, keys).await
    }

    /// One call, as one `BatchGetItem` across tables is one round trip.
    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        bump(&self.counters.batch_get);
        self.inner.batch_get_across(keys).await
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        bump(&self.counters.query);
        self.inner.query(query).await
    }

    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        bump(&self.counters.put);
        self.inner.put(table, item, condition).await
    }

    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        bump(&self.counters.update);
        self.inner.update(table, update).await
    }

    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        bump(&self.counters.delete);
        self.inner.delete(table, key, condition).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        bump(&self.counters.transact);
        self.inner.transact(writes).await
    }
}
