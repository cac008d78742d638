//! The orders function's reads and writes: orders and their listings (with the stock moves that
//! go with a change of state, `nanoshop_schema::catalog::StockMove`), and the pending orders that
//! are due to expire.

use std::sync::Arc;

use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::Order;
use nanoshop_schema::orders::{ORDER_ID, PENDING, SweepRetry, defer_sweep, order_key, order_writes, sweep_due};
use nanoshop_schema::{CorruptItem, decode};
use nanoshop_store::{Index, Key, PageKey, Query, Store, StoreError, Table, Write};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The order changed since it was read.
    #[error("the order changed since it was read")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct OrdersRepository {
    store: Arc<dyn Store>,
}

impl OrdersRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub async fn order(&self, id: &OrderId) -> Result<Option<Order>> {
        Ok(self.store.get(Table::Orders, &order_key(id)).await?.as_ref().map(decode).transpose()?)
    }

    /// Replaces `previous` by `next` on condition of its version, with `also` (the stock it moves,
    /// an idempotency record) in the same transaction: all or nothing, once.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the order changed since `previous` was read.
    pub async fn save(&self, previous: &Order, next: &Order, also: Vec<Write>) -> Result<()> {
        let mut writes = order_writes(Some(previous), next)?;
        writes.extend(also);
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) if e.failed_condition() == Some(0) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// A page of a listing, newest first: one query, then one batch read of the orders.
    pub async fn list(
        &self,
        listing: &str,
        limit: u32,
        after: Option<PageKey>,
    ) -> Result<(Vec<Order>, Option<PageKey>)> {
        let mut query = Query::new(Table::Orders, listing);
        query.descending = true;
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let keys: Vec<Key> = page
            .items
            .iter()
            .filter_map(|i| i.s(ORDER_ID).and_then(|id| id.parse::<OrderId>().ok()))
            .map(|id| order_key(&id))
            .collect();
        let orders = if keys.is_empty() { Vec::new() } else { self.store.batch_get(Table::Orders, &keys).await? };
        let orders = orders.iter().map(decode).collect::<Result<Vec<Order>, _>>()?;
        let next = match (page.items.last(), page.next) {
            (Some(last), Some(_)) => Some(PageKey::after(last, None)),
            _ => None,
        };
        Ok((orders, next))
    }

    /// One page of the pending orders the sweep should look at by `now` (their payment window
    /// closed, and any retry time the sweep set has come), in that order: at most `limit`,
    /// continuing `after` a previous page. The next page's key is `None` once the index holds no
    /// more due orders (the page ended on an order not yet due, or the partition ended).
    pub async fn due(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
        after: Option<PageKey>,
    ) -> Result<(Vec<DueOrder>, Option<PageKey>)> {
        let mut query = Query::new(Table::Orders, PENDING);
        query.index = Some(Index::Gsi1);
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let all = page.items.len();
        let mut due = Vec::with_capacity(all);
        for item in &page.items {
            let order: Order = decode(item)?;
            if sweep_due(item, &order) > now {
                break;
            }
            due.push(DueOrder { order, retry: SweepRetry::of(item) });
        }
        let next = if due.len() == all { page.next } else { None };
        Ok((due, next))
    }

    /// Moves pending `order` behind the others until `retry`'s time, leaving the order as it
    /// is: the sweep could not close it now.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the order changed since it was read (it may be paid or
    /// closed: nothing to defer).
    pub async fn defer(&self, order: &Order, retry: SweepRetry) -> Result<()> {
        match self.store.update(Table::Orders, defer_sweep(order, retry)).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_condition_failed() => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }
}

/// A pending order the sweep should look at now.
#[derive(Debug, Clone)]
pub struct DueOrder {
    pub order: Order,
    /// The sweep's earlier failures to close it, since the order was last written.
    pub retry: Option<SweepRetry>,
}
