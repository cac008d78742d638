//! A [`Store`] decorator that injects the failures a real backend has, on a script, so tests can
//! prove that every call position of a flow survives them.
//!
//! Three faults, each reported as [`StoreError::Unavailable`], the error callers retry:
//!
//! - [`Fault::Fail`]: the call is refused before it reaches the inner store; nothing is applied.
//! - [`Fault::TimeoutAfterWrite`]: the call is applied to the inner store, and then reported as
//!   unavailable, whatever the inner store answered. This is a client-side timeout on a request
//!   the backend did process, the nastiest case for retries: the caller cannot tell whether its
//!   write landed.
//! - throttling ([`FaultyStore::throttle`]): every call of a kind is refused, until a number of
//!   them have been.
//!
//! Faults are counted in calls, never in time, so a script replays identically on every run;
//! calls are counted under one mutex, so concurrent callers each see a definite position.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::port::{Condition, Item, Key, Query, QueryPage, Store, StoreError, StoreResult, Table, Update, Write};

/// The operations of the [`Store`] port, to aim a fault at one kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Get,
    BatchGet,
    Query,
    Put,
    Update,
    Delete,
    Transact,
}

impl Op {
    pub const ALL: [Op; 7] = [Op::Get, Op::BatchGet, Op::Query, Op::Put, Op::Update, Op::Delete, Op::Transact];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::BatchGet => "batch_get",
            Op::Query => "query",
            Op::Put => "put",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Transact => "transact",
        }
    }
}

/// What happens to a call a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Refused before reaching the inner store: nothing is applied.
    Fail,
    /// Applied to the inner store, then reported as unavailable.
    TimeoutAfterWrite,
    /// Refused as throttled (by [`FaultyStore::throttle`]); nothing is applied.
    Throttled,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Fail => "fail",
            Fault::TimeoutAfterWrite => "timeout after write",
            Fault::Throttled => "throttled",
        }
    }
}

/// A fault that was injected: which call it hit, for the test's failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// The call's position among all calls since the store was made or last [`FaultyStore::clear`]ed, from 1.
    pub call: u64,
    pub op: Op,
    pub fault: Fault,
}

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at call {} ({})", self.fault.as_str(), self.call, self.op.as_str())
    }
}

/// The error inside the [`StoreError::Unavailable`] of an injected fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("injected fault: {0}")]
pub struct InjectedFault(pub Injected);

#[derive(Debug)]
enum Rule {
    /// Hits the `n`th matching call counted from when it was armed (1 = the next one), once.
    Nth { on: Option<Op>, left: u64, fault: Fault },
    /// Hits the next `left` matching calls.
    Throttle { on: Option<Op>, left: u64 },
}

#[derive(Debug, Default)]
struct Script {
    rules: Vec<Rule>,
    calls: u64,
    injected: Vec<Injected>,
}

fn matches(on: Option<Op>, op: Op) -> bool {
    on.is_none_or(|o| o == op)
}

impl Script {
    /// Counts a call of `op` and says which fault, if any, hits it. Every rule that matches the
    /// call counts it; the first one due fires.
    fn decide(&mut self, op: Op) -> Option<Injected> {
        self.calls += 1;
        let mut hit = None;
        for rule in &mut self.rules {
            match rule {
                Rule::Nth { on, left, fault } if matches(*on, op) && *left > 0 => {
                    *left -= 1;
                    if *left == 0 && hit.is_none() {
                        hit = Some(*fault);
                    }
                }
                Rule::Throttle { on, left } if matches(*on, op) && *left > 0 && hit.is_none() => {
                    *left -= 1;
                    hit = Some(Fault::Throttled);
                }
                _ => {}
            }
        }
        self.rules.retain(|r| match r {
            Rule::Nth { left, .. } | Rule::Throttle { left, .. } => *left > 0,
        });
        let injected = Injected { call: self.calls, op, fault: hit? };
        self.injected.push(injected.clone());
        Some(injected)
    }
}

/// Wraps another store and injects [`Fault`]s into the calls that reach it, as scripted. Without
/// a script it passes every call through unchanged.
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    script: Mutex<Script>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, script: Mutex::new(Script::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        // The script is plain counters; a panic elsewhere cannot leave it half-updated.
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hits the `n`th call (1 = the next one) with `fault`, counting only calls of `on` when
    /// given. Each armed fault fires once; of two due on the same call, the one armed first fires
    /// and the other is spent.
    ///
    /// # Panics
    /// For `n == 0` or [`Fault::Throttled`] (use [`FaultyStore::throttle`]): scripting mistakes.
    pub fn inject(&self, n: u64, on: Option<Op>, fault: Fault) {
        assert!(n > 0, "calls are counted from 1");
        assert!(fault != Fault::Throttled, "throttling is scripted with `throttle`");
        self.lock().rules.push(Rule::Nth { on, left: n, fault });
    }

    /// Refuses the next `calls` calls of `on` (of any kind when `None`) as throttled.
    pub fn throttle(&self, on: Option<Op>, calls: u64) {
        if calls > 0 {
            self.lock().rules.push(Rule::Throttle { on, left: calls });
        }
    }

    /// Removes every armed fault and restarts the call count and the log.
    pub fn clear(&self) {
        *self.lock() = Script::default();
    }

    /// Calls seen since the store was made or last cleared, faulted or not.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Whether any fault is still armed.
    pub fn armed(&self) -> bool {
        !self.lock().rules.is_empty()
    }

    /// The faults injected since the store was made or last cleared, in order.
    pub fn injected(&self) -> Vec<Injected> {
        self.lock().injected.clone()
    }

    /// Runs `call` (the inner store's call of `op`) unless a fault says otherwise.
    async fn run<T>(&self, op: Op, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        // The lock is released before awaiting: `decide` returns an owned answer.
        let Some(injected) = self.lock().decide(op) else { return call.await };
        if injected.fault == Fault::TimeoutAfterWrite {
            // The backend's answer, success or refusal, never reaches the caller.
            let _lost = call.await;
        }
        Err(StoreError::Unavailable(Box::new(InjectedFault(injected))))
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        self.run(Op::Get, self.inner.get(table, key)).await
    }

    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.run(Op::BatchGet, self.inner.batch_get(table, keys)).await
    }

    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        self.run(Op::BatchGet, self.inner.batch_get_across(keys)).await
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        self.run(Op::Query, self.inner.query(query)).await
    }

    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.run(Op::Put, self.inner.put(table, item, condition)).await
    }

    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        self.run(Op::Update, self.inner.update(table, update)).await
    }

    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.run(Op::Delete, self.inner.delete(table, key, condition)).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.run(Op::Transact, self.inner.transact(writes)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::EmbeddedStore;

    fn item(sk: &str) -> Item {
        Item::new(&Key::new("P", sk))
    }

    async fn put(store: &FaultyStore, sk: &str) -> StoreResult<()> {
        store.put(Table::Catalog, item(sk), None).await
    }

    async fn stored(inner: &EmbeddedStore, sk: &str) -> bool {
        inner.get(Table::Catalog, &Key::new("P", sk)).await.ok().flatten().is_some()
    }

    fn injected(e: &StoreError) -> Option<Injected> {
        match e {
            StoreError::Unavailable(source) => source.downcast_ref::<InjectedFault>().map(|f| f.0.clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_failed_call_is_not_applied_and_a_timed_out_one_is() {
        let inner = Arc::new(EmbeddedStore::in_memory());
        let store = FaultyStore::new(inner.clone());
        store.inject(2, None, Fault::Fail);
        store.inject(3, None, Fault::TimeoutAfterWrite);
        assert!(put(&store, "a").await.is_ok());
        let failed = put(&store, "b").await.expect_err("the second call fails");
        assert_eq!(injected(&failed), Some(Injected { call: 2, op: Op::Put, fault: Fault::Fail }));
        let timed_out = put(&store, "c").await.expect_err("the third call times out");
        assert_eq!(injected(&timed_out).map(|i| i.fault), Some(Fault::TimeoutAfterWrite));
        assert!(put(&store, "d").await.is_ok(), "each fault fires once");
        assert_eq!(
            (stored(&inner, "a").await, stored(&inner, "b").await, stored(&inner, "c").await),
            (true, false, true),
            "refused before, applied before the timeout"
        );
        assert_eq!((store.calls(), store.injected().len(), store.armed()), (4, 2, false));
    }

    #[tokio::test]
    async fn faults_aimed_at_one_operation_count_only_its_calls() {
        let inner = Arc::new(EmbeddedStore::in_memory());
        let store = FaultyStore::new(inner.clone());
        store.inject(2, Some(Op::Get), Fault::Fail);
        store.throttle(Some(Op::Delete), 2);
        let key = Key::new("P", "a");
        put(&store, "a").await.expect("no fault armed");
        assert!(store.get(Table::Catalog, &key).await.is_ok(), "first get");
        put(&store, "b").await.expect("not a get");
        let second = store.get(Table::Catalog, &key).await.expect_err("second get");
        assert_eq!(injected(&second), Some(Injected { call: 4, op: Op::Get, fault: Fault::Fail }));
        for _ in 0..2 {
            let throttled = store.delete(Table::Catalog, &key, None).await.expect_err("throttled");
            assert_eq!(injected(&throttled).map(|i| i.fault), Some(Fault::Throttled));
        }
        store.delete(Table::Catalog, &key, None).await.expect("the burst is over");
        assert!(!stored(&inner, "a").await);
        store.inject(1, None, Fault::Fail);
        store.clear();
        assert!(put(&store, "c").await.is_ok(), "clear disarms");
        assert_eq!(store.calls(), 1);
    }

    #[tokio::test]
    async fn a_timeout_hides_the_backends_refusal_too() {
        let inner = Arc::new(EmbeddedStore::in_memory());
        let store = FaultyStore::new(inner);
        put(&store, "a").await.expect("no fault armed");
        store.inject(1, Some(Op::Put), Fault::TimeoutAfterWrite);
        let refused = store.put(Table::Catalog, item("a"), Some(Condition::NotExists)).await.expect_err("refused");
        assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
    }
}
