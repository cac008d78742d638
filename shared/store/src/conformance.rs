//! The conformance suite: the behaviour every [`Store`] adapter must have, run against each one
//! (embedded in memory and on file, DynamoDB Local, moto) by `shared/store/tests/conformance.rs`.
//!
//! Each case works in partitions of its own (a fresh prefix per run), so cases can share tables
//! and run against a long-lived server. [`run_all`] runs every case and reports every failure.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::port::{
    Condition, EXPIRES_AT, GSI1_PK, GSI1_SK, Index, Item, Key, Query, Store, StoreError, Table, Update, VERSION, Value,
    Write, now_unix,
};

type CaseResult = Result<(), String>;
type Case = fn(Arc<dyn Store>, String) -> Pin<Box<dyn Future<Output = CaseResult> + Send>>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every case, by name.
        pub const CASES: &[(&str, Case)] = &[$((stringify!($name), |s, p| Box::pin($name(s, p)))),*];
    };
}

cases![
    put_then_get_returns_the_item,
    put_if_absent_refuses_an_existing_item,
    stale_versions_are_refused,
    conditional_delete_checks_its_condition,
    update_creates_missing_items_and_adds_from_zero,
    counter_with_a_floor_survives_50_concurrent_decrements,
    transaction_applies_all_or_nothing_and_names_the_failed_condition,
    concurrent_transactions_never_oversell,
    malformed_transactions_are_refused,
    query_pages_through_a_partition_both_ways,
    query_pages_through_the_index,
    batch_get_handles_more_than_100_keys,
    batch_get_across_reads_several_tables_at_once,
    expired_items_are_never_returned_and_count_as_absent,
];

/// Runs every case against `store`.
///
/// # Panics
/// With the list of failed cases and why, if any failed.
pub async fn run_all(store: Arc<dyn Store>) {
    let run = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let mut failures = Vec::new();
    for (name, case) in CASES {
        if let Err(why) = case(store.clone(), format!("conf-{run}-{name}")).await {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

fn err(e: StoreError) -> String {
    format!("unexpected store error: {e:?}")
}

fn counter(key: &Key, name: &str, value: i64) -> Item {
    Item::new(key).with(name, value).with(VERSION, 1)
}

async fn put_then_get_returns_the_item(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "a");
    let item = Item::new(&key).with("title", "Linen shirt — S").with("n", -42).with("flag", true).with(VERSION, 1);
    store.put(Table::Catalog, item.clone(), None).await.map_err(err)?;
    let got = store.get(Table::Catalog, &key).await.map_err(err)?;
    ensure!(got.as_ref() == Some(&item), "got {got:?}, want {item:?}");
    let missing = store.get(Table::Catalog, &Key::new(&p, "missing")).await.map_err(err)?;
    ensure!(missing.is_none(), "a missing key returned {missing:?}");
    // Tables are separate namespaces.
    let other = store.get(Table::Orders, &key).await.map_err(err)?;
    ensure!(other.is_none(), "the same key in another table returned {other:?}");
    Ok(())
}

async fn put_if_absent_refuses_an_existing_item(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "slug");
    store.put(Table::Catalog, Item::new(&key).with("owner", "first"), Some(Condition::NotExists)).await.map_err(err)?;
    match store.put(Table::Catalog, Item::new(&key).with("owner", "second"), Some(Condition::NotExists)).await {
        Err(StoreError::ConditionFailed { current }) => {
            ensure!(
                current.as_ref().and_then(|i| i.s("owner")) == Some("first"),
                "the failure should carry the current item, got {current:?}"
            )
        }
        other => return Err(format!("second put-if-absent gave {other:?}")),
    }
    let kept = store.get(Table::Catalog, &key).await.map_err(err)?;
    ensure!(kept.as_ref().and_then(|i| i.s("owner")) == Some("first"), "the first item was overwritten: {kept:?}");
    Ok(())
}

async fn stale_versions_are_refused(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "doc");
    store.put(Table::Carts, Item::new(&key).with(VERSION, 1).with("doc", "v1"), None).await.map_err(err)?;
    let updated = store
        .update(Table::Carts, Update::new(key.clone()).set("doc", "v2").add(VERSION, 1).when(Condition::VersionIs(1)))
        .await
        .map_err(err)?;
    ensure!(updated.n(VERSION) == Some(2) && updated.s("doc") == Some("v2"), "update returned {updated:?}");
    match store
        .update(Table::Carts, Update::new(key.clone()).set("doc", "lost").add(VERSION, 1).when(Condition::VersionIs(1)))
        .await
    {
        Err(StoreError::ConditionFailed { current }) => {
            ensure!(current.and_then(|i| i.n(VERSION)) == Some(2), "failure should show version 2")
        }
        other => return Err(format!("stale update gave {other:?}")),
    }
    let stale_put = store
        .put(Table::Carts, Item::new(&key).with(VERSION, 2).with("doc", "lost"), Some(Condition::VersionIs(1)))
        .await;
    ensure!(matches!(stale_put, Err(StoreError::ConditionFailed { .. })), "stale put gave {stale_put:?}");
    let now = store.get(Table::Carts, &key).await.map_err(err)?;
    ensure!(now.as_ref().and_then(|i| i.s("doc")) == Some("v2"), "a stale write took effect: {now:?}");
    // A version condition on a missing item fails rather than creating it.
    let ghost = store
        .update(Table::Carts, Update::new(Key::new(&p, "ghost")).set("doc", "x").when(Condition::VersionIs(1)))
        .await;
    ensure!(
        matches!(ghost, Err(StoreError::ConditionFailed { current: None })),
        "versioned update of a missing item gave {ghost:?}"
    );
    ensure!(
        store.get(Table::Carts, &Key::new(&p, "ghost")).await.map_err(err)?.is_none(),
        "the missing item was created"
    );
    Ok(())
}

async fn conditional_delete_checks_its_condition(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "doc");
    store.put(Table::Orders, Item::new(&key).with(VERSION, 3).with("status", "paid"), None).await.map_err(err)?;
    let wrong = store.delete(Table::Orders, &key, Some(Condition::VersionIs(2))).await;
    ensure!(matches!(wrong, Err(StoreError::ConditionFailed { .. })), "delete with a stale version gave {wrong:?}");
    let wrong =
        store.delete(Table::Orders, &key, Some(Condition::Equals("status".into(), Value::from("pending")))).await;
    ensure!(matches!(wrong, Err(StoreError::ConditionFailed { .. })), "delete with a wrong status gave {wrong:?}");
    ensure!(store.get(Table::Orders, &key).await.map_err(err)?.is_some(), "a refused delete removed the item");
    store
        .delete(
            Table::Orders,
            &key,
            Some(Condition::And(vec![Condition::VersionIs(3), Condition::Equals("status".into(), "paid".into())])),
        )
        .await
        .map_err(err)?;
    ensure!(store.get(Table::Orders, &key).await.map_err(err)?.is_none(), "the item survived its delete");
    store.delete(Table::Orders, &key, None).await.map_err(err)?;
    let gone = store.delete(Table::Orders, &key, Some(Condition::Exists)).await;
    ensure!(
        matches!(gone, Err(StoreError::ConditionFailed { current: None })),
        "delete-if-exists of a missing item gave {gone:?}"
    );
    Ok(())
}

async fn update_creates_missing_items_and_adds_from_zero(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "stock");
    let created = store
        .update(Table::Catalog, Update::new(key.clone()).set("sku", "LS-S").add("on_hand", 5))
        .await
        .map_err(err)?;
    ensure!(created.n("on_hand") == Some(5) && created.s("sku") == Some("LS-S"), "upsert gave {created:?}");
    let later = store
        .update(Table::Catalog, Update::new(key.clone()).add("on_hand", -2).add("reserved", 2).remove("sku"))
        .await
        .map_err(err)?;
    ensure!(
        later.n("on_hand") == Some(3) && later.n("reserved") == Some(2) && later.get("sku").is_none(),
        "second update gave {later:?}"
    );
    let must_exist =
        store.update(Table::Catalog, Update::new(Key::new(&p, "nope")).add("on_hand", 1).when(Condition::Exists)).await;
    ensure!(
        matches!(must_exist, Err(StoreError::ConditionFailed { current: None })),
        "update-if-exists of a missing item gave {must_exist:?}"
    );
    Ok(())
}

async fn counter_with_a_floor_survives_50_concurrent_decrements(store: Arc<dyn Store>, p: String) -> CaseResult {
    let key = Key::new(&p, "stock");
    store.put(Table::Catalog, counter(&key, "available", 30), None).await.map_err(err)?;
    let attempts = (0..50).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move {
            store
                .update(
                    Table::Catalog,
                    Update::new(key)
                        .add("available", -1)
                        .add("reserved", 1)
                        .when(Condition::AtLeast("available".into(), 1)),
                )
                .await
        })
    });
    let (mut ok, mut refused) = (0, 0);
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.map_err(|e| e.to_string())? {
            Ok(item) => {
                ok += 1;
                ensure!(item.n("available").is_some_and(|n| n >= 0), "a decrement went below the floor: {item:?}");
            }
            Err(StoreError::ConditionFailed { .. }) => refused += 1,
            Err(e) => return Err(err(e)),
        }
    }
    ensure!(ok == 30 && refused == 20, "{ok} decrements succeeded and {refused} were refused; want 30 and 20");
    let end = store.get(Table::Catalog, &key).await.map_err(err)?;
    ensure!(end.as_ref().and_then(|i| i.n("available")) == Some(0), "final available {end:?}, want 0");
    ensure!(end.as_ref().and_then(|i| i.n("reserved")) == Some(30), "final reserved {end:?}, want 30");
    Ok(())
}

async fn transaction_applies_all_or_nothing_and_names_the_failed_condition(
    store: Arc<dyn Store>,
    p: String,
) -> CaseResult {
    let stock: Vec<Key> = (0..12).map(|i| Key::new(&p, format!("stock-{i:02}"))).collect();
    for k in &stock {
        store.put(Table::Catalog, counter(k, "available", 5), None).await.map_err(err)?;
    }
    let order = Key::new(format!("{p}-order"), "order");
    let cart = Key::new(format!("{p}-cart"), "cart");
    store.put(Table::Carts, Item::new(&cart).with(VERSION, 4).with("status", "active"), None).await.map_err(err)?;

    // 12 reservations, where the 9th asks for more than there is, plus the order and the cart.
    let writes = |want_of_ninth: i64| -> Vec<Write> {
        let mut writes: Vec<Write> = stock
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let qty = if i == 8 { want_of_ninth } else { 2 };
                Write::Update {
                    table: Table::Catalog,
                    update: Update::new(k.clone())
                        .add("available", -qty)
                        .add("reserved", qty)
                        .when(Condition::AtLeast("available".into(), qty)),
                }
            })
            .collect();
        writes.push(Write::Put {
            table: Table::Orders,
            item: Item::new(&order).with("status", "pending_payment"),
            condition: Some(Condition::NotExists),
        });
        writes.push(Write::Update {
            table: Table::Carts,
            update: Update::new(cart.clone())
                .set("status", "checked_out")
                .add(VERSION, 1)
                .when(Condition::VersionIs(4)),
        });
        writes
    };
    match store.transact(writes(6)).await {
        Err(e @ StoreError::TransactionCancelled { .. }) => {
            ensure!(e.failed_condition() == Some(8), "the failed condition should be write 8, got {e:?}");
            if let StoreError::TransactionCancelled { reasons } = &e {
                ensure!(reasons.len() == 14, "one reason per write, got {}", reasons.len());
            }
        }
        other => return Err(format!("an impossible reservation gave {other:?}")),
    }
    for k in &stock {
        let item = store.get(Table::Catalog, k).await.map_err(err)?;
        ensure!(
            item.as_ref().and_then(|i| i.n("available")) == Some(5),
            "a cancelled transaction changed {k}: {item:?}"
        );
    }
    ensure!(
        store.get(Table::Orders, &order).await.map_err(err)?.is_none(),
        "a cancelled transaction created the order"
    );
    let c = store.get(Table::Carts, &cart).await.map_err(err)?;
    ensure!(c.as_ref().and_then(|i| i.n(VERSION)) == Some(4), "a cancelled transaction changed the cart: {c:?}");

    store.transact(writes(5)).await.map_err(err)?;
    for (i, k) in stock.iter().enumerate() {
        let want = if i == 8 { 0 } else { 3 };
        let item = store.get(Table::Catalog, k).await.map_err(err)?;
        ensure!(
            item.as_ref().and_then(|i| i.n("available")) == Some(want),
            "after commit {k} is {item:?}, want {want}"
        );
    }
    ensure!(
        store.get(Table::Orders, &order).await.map_err(err)?.is_some(),
        "the committed transaction did not create the order"
    );
    let c = store.get(Table::Carts, &cart).await.map_err(err)?;
    ensure!(c.as_ref().and_then(|i| i.s("status")) == Some("checked_out"), "the cart was not checked out: {c:?}");

    // Replaying the same transaction fails on the order (already exists) and the cart version.
    let replay = store.transact(writes(0)).await;
    ensure!(
        matches!(&replay, Err(e) if e.failed_condition() == Some(12)),
        "a replay should fail first at the order put, got {replay:?}"
    );
    Ok(())
}

async fn concurrent_transactions_never_oversell(store: Arc<dyn Store>, p: String) -> CaseResult {
    let (a, b) = (Key::new(&p, "a"), Key::new(&p, "b"));
    store.put(Table::Catalog, counter(&a, "available", 10), None).await.map_err(err)?;
    store.put(Table::Catalog, counter(&b, "available", 10), None).await.map_err(err)?;
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let (store, a, b, p) = (store.clone(), a.clone(), b.clone(), p.clone());
            tokio::spawn(async move {
                let take = |k: Key| Write::Update {
                    table: Table::Catalog,
                    update: Update::new(k).add("available", -1).when(Condition::AtLeast("available".into(), 1)),
                };
                let order = Item::new(&Key::new(format!("{p}-orders"), format!("{i:03}")));
                store
                    .transact(vec![
                        take(a),
                        take(b),
                        Write::Put { table: Table::Orders, item: order, condition: Some(Condition::NotExists) },
                    ])
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.map_err(|e| e.to_string())? {
            Ok(()) => ok += 1,
            Err(e) if e.failed_condition().is_some() => {}
            Err(e) => return Err(err(e)),
        }
    }
    let left = |k: Key| {
        let store = store.clone();
        async move { store.get(Table::Catalog, &k).await.map(|i| i.and_then(|i| i.n("available"))) }
    };
    let (la, lb) = (left(a).await.map_err(err)?, left(b).await.map_err(err)?);
    ensure!(
        ok == 10 && la == Some(0) && lb == Some(0),
        "{ok} transactions committed, left a={la:?} b={lb:?}; want 10, 0, 0"
    );
    let mut orders = Query::new(Table::Orders, format!("{p}-orders"));
    orders.limit = 100;
    let n = store.query(&orders).await.map_err(err)?.items.len();
    ensure!(n == 10, "{n} orders were written, want 10");
    Ok(())
}

async fn malformed_transactions_are_refused(store: Arc<dyn Store>, p: String) -> CaseResult {
    let put = |i: usize| Write::Put {
        table: Table::Catalog,
        item: Item::new(&Key::new(&p, format!("{i:03}"))),
        condition: None,
    };
    let too_many: Vec<Write> = (0..101).map(put).collect();
    ensure!(
        matches!(store.transact(too_many).await, Err(StoreError::Invalid(_))),
        "101 writes were not refused as invalid"
    );
    ensure!(
        matches!(store.transact(Vec::new()).await, Err(StoreError::Invalid(_))),
        "an empty transaction was not refused"
    );
    ensure!(
        matches!(store.transact(vec![put(1), put(1)]).await, Err(StoreError::Invalid(_))),
        "two writes on one item were not refused"
    );
    ensure!(
        store.get(Table::Catalog, &Key::new(&p, "001")).await.map_err(err)?.is_none(),
        "a refused transaction wrote something"
    );
    let hundred: Vec<Write> = (0..100).map(put).collect();
    store.transact(hundred).await.map_err(err)?;
    ensure!(
        store.get(Table::Catalog, &Key::new(&p, "099")).await.map_err(err)?.is_some(),
        "a 100-write transaction did not apply"
    );
    Ok(())
}

async fn collect_pages(store: &Arc<dyn Store>, mut query: Query) -> Result<(Vec<String>, usize), String> {
    let mut keys = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&query).await.map_err(err)?;
        pages += 1;
        ensure!(
            page.items.len() <= query.limit as usize,
            "a page held {} items, over the limit {}",
            page.items.len(),
            query.limit
        );
        keys.extend(page.items.iter().filter_map(|i| i.key()).map(|k| k.sk));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok((keys, pages)),
        }
        ensure!(pages < 100, "paging did not end");
    }
}

async fn query_pages_through_a_partition_both_ways(store: Arc<dyn Store>, p: String) -> CaseResult {
    let want: Vec<String> = (0..23).map(|i| format!("line#{i:03}")).collect();
    let writes: Vec<Write> = want
        .iter()
        .map(|sk| Write::Put { table: Table::Carts, item: Item::new(&Key::new(&p, sk.as_str())), condition: None })
        .chain([
            Write::Put { table: Table::Carts, item: Item::new(&Key::new(&p, "cart")), condition: None },
            Write::Put { table: Table::Carts, item: Item::new(&Key::new(&p, "line")), condition: None },
            Write::Put {
                table: Table::Carts,
                item: Item::new(&Key::new(format!("{p}-other"), "line#000")),
                condition: None,
            },
        ])
        .collect();
    store.transact(writes).await.map_err(err)?;

    let mut query = Query::new(Table::Carts, p.clone());
    query.sort_prefix = Some("line#".into());
    query.limit = 5;
    let (forward, pages) = collect_pages(&store, query.clone()).await?;
    ensure!(forward == want, "ascending pages gave {forward:?}");
    ensure!(pages >= 5, "23 items in pages of 5 came in {pages} pages");
    query.descending = true;
    let (backward, _) = collect_pages(&store, query.clone()).await?;
    let mut reversed = want.clone();
    reversed.reverse();
    ensure!(backward == reversed, "descending pages gave {backward:?}");
    query.sort_prefix = None;
    query.descending = false;
    let (all, _) = collect_pages(&store, query).await?;
    ensure!(
        all.len() == 25 && all[0] == "cart",
        "without a prefix the partition has 25 items starting with `cart`, got {all:?}"
    );
    Ok(())
}

async fn query_pages_through_the_index(store: Arc<dyn Store>, p: String) -> CaseResult {
    let index_pk = format!("{p}-by-email");
    let writes: Vec<Write> = (0..17)
        .map(|i| {
            // Table keys in the opposite order of index keys, so a wrong key choice shows.
            let item = Item::new(&Key::new(format!("{p}-order-{:02}", 16 - i), "order"))
                .with(GSI1_PK, index_pk.as_str())
                .with(GSI1_SK, format!("2026-11-{:02}", i + 1));
            Write::Put { table: Table::Orders, item, condition: None }
        })
        .collect();
    store.transact(writes).await.map_err(err)?;
    let mut query = Query::new(Table::Orders, index_pk);
    query.index = Some(Index::Gsi1);
    query.descending = true;
    query.limit = 4;
    let mut days = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&query).await.map_err(err)?;
        days.extend(page.items.iter().filter_map(|i| i.s(GSI1_SK).map(str::to_owned)));
        pages += 1;
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
        ensure!(pages < 50, "index paging did not end");
    }
    let want: Vec<String> = (0..17).rev().map(|i| format!("2026-11-{:02}", i + 1)).collect();
    ensure!(days == want, "index pages newest first gave {days:?}");
    Ok(())
}

async fn batch_get_across_reads_several_tables_at_once(store: Arc<dyn Store>, p: String) -> CaseResult {
    // The same key in two tables is two items; more than 100 keys in all; some missing.
    let keys: Vec<(Table, Key)> = (0..120)
        .map(|i| (if i % 2 == 0 { Table::Carts } else { Table::Idempotency }, Key::new(format!("{p}-{}", i / 2), "x")))
        .collect();
    for chunk in keys.chunks(100) {
        let writes = chunk
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 7 != 5)
            .map(|(_, (table, key))| Write::Put {
                table: *table,
                item: Item::new(key).with("table", table.as_str()),
                condition: None,
            })
            .collect();
        store.transact(writes).await.map_err(err)?;
    }
    let expired = (Table::Carts, Key::new(format!("{p}-expired"), "x"));
    let item = Item::new(&expired.1).with(EXPIRES_AT, now_unix() - 10);
    store.put(Table::Carts, item, None).await.map_err(err)?;
    let mut asked = keys.clone();
    asked.reverse();
    asked.push(expired);
    let got = store.batch_get_across(&asked).await.map_err(err)?;
    let want: Vec<(Table, Key)> = asked
        .iter()
        .filter(|(t, k)| keys.iter().position(|x| x == &(*t, k.clone())).is_some_and(|i| i % 100 % 7 != 5))
        .cloned()
        .collect();
    let got_keys: Vec<(Table, Key)> = got.iter().filter_map(|(t, i)| Some((*t, i.key()?))).collect();
    ensure!(got_keys == want, "read {} of {} items across tables, or out of order", got_keys.len(), want.len());
    let labelled = got.iter().all(|(t, i)| i.s("table") == Some(t.as_str()));
    ensure!(labelled, "an item was answered as another table's");
    let dup = store.batch_get_across(&[keys[0].clone(), keys[0].clone()]).await;
    ensure!(matches!(dup, Err(StoreError::Invalid(_))), "a key asked twice was not refused: {dup:?}");
    Ok(())
}

async fn batch_get_handles_more_than_100_keys(store: Arc<dyn Store>, p: String) -> CaseResult {
    let keys: Vec<Key> = (0..150).map(|i| Key::new(format!("{p}-{i:03}"), "stock")).collect();
    for chunk in keys.chunks(100) {
        let writes = chunk
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 10 != 3) // leave some missing
            .map(|(_, k)| Write::Put {
                table: Table::Catalog,
                item: Item::new(k).with("sku", k.pk.as_str()),
                condition: None,
            })
            .collect();
        store.transact(writes).await.map_err(err)?;
    }
    let mut asked: Vec<Key> = keys.clone();
    asked.reverse();
    let got = store.batch_get(Table::Catalog, &asked).await.map_err(err)?;
    let want: Vec<String> =
        asked.iter().enumerate().filter(|(i, _)| (149 - i) % 100 % 10 != 3).map(|(_, k)| k.pk.clone()).collect();
    let got_pks: Vec<String> = got.iter().filter_map(|i| i.s("pk").map(str::to_owned)).collect();
    ensure!(
        got_pks == want,
        "batch get of 150 keys returned {} items (want {}), in request order",
        got_pks.len(),
        want.len()
    );
    let dup = store.batch_get(Table::Catalog, &[keys[0].clone(), keys[0].clone()]).await;
    ensure!(matches!(dup, Err(StoreError::Invalid(_))), "duplicate keys gave {dup:?}");
    ensure!(store.batch_get(Table::Catalog, &[]).await.map_err(err)?.is_empty(), "an empty batch returned items");
    Ok(())
}

async fn expired_items_are_never_returned_and_count_as_absent(store: Arc<dyn Store>, p: String) -> CaseResult {
    let past = now_unix() - 10;
    let future = now_unix() + 3600;
    let expired = Key::new(&p, "expired");
    let live = Key::new(&p, "live");
    store
        .put(
            Table::Idempotency,
            Item::new(&expired).with(EXPIRES_AT, past).with("leftover", "x").with(VERSION, 1),
            None,
        )
        .await
        .map_err(err)?;
    store.put(Table::Idempotency, Item::new(&live).with(EXPIRES_AT, future), None).await.map_err(err)?;

    ensure!(store.get(Table::Idempotency, &expired).await.map_err(err)?.is_none(), "get returned an expired item");
    ensure!(store.get(Table::Idempotency, &live).await.map_err(err)?.is_some(), "get lost a live item");
    let batch = store.batch_get(Table::Idempotency, &[expired.clone(), live.clone()]).await.map_err(err)?;
    ensure!(batch.len() == 1 && batch[0].key() == Some(live.clone()), "batch get returned {batch:?}");
    let (found, _) = collect_pages(&store, Query::new(Table::Idempotency, p.clone())).await?;
    ensure!(found == ["live"], "query returned {found:?}");

    for (name, condition) in [("exists", Condition::Exists), ("version", Condition::VersionIs(1))] {
        let r = store.update(Table::Idempotency, Update::new(expired.clone()).set("x", "y").when(condition)).await;
        ensure!(
            matches!(r, Err(StoreError::ConditionFailed { current: None })),
            "{name} condition held on an expired item: {r:?}"
        );
    }
    // An expired item is absent: creating over it works, and nothing of the old item survives.
    store
        .put(Table::Idempotency, Item::new(&expired).with("fresh", true), Some(Condition::NotExists))
        .await
        .map_err(err)?;
    let fresh = store.get(Table::Idempotency, &expired).await.map_err(err)?;
    ensure!(
        fresh.as_ref().is_some_and(|i| i.bool("fresh") == Some(true) && i.get("leftover").is_none()),
        "put-if-absent over an expired item gave {fresh:?}"
    );
    Ok(())
}
