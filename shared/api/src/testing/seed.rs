//! Items written straight into a store in their table layout (`nanoshop_schema`), for tests of a
//! function that reads what another function writes: no function's tests depend on another
//! function's crate, as no function does.

use chrono::{TimeDelta, Utc};
use nanoshop_domain::Money;
use nanoshop_domain::address::{Address, UncheckedAddress};
use nanoshop_domain::catalog::{ProductStatus, Sku, VariantSnapshot};
use nanoshop_domain::discount::{Discount, DiscountKind};
use nanoshop_domain::ids::{DiscountId, OrderId, ProductId};
use nanoshop_domain::money::Currency;
use nanoshop_domain::order::{
    ChosenShipping, FulfillmentStatus, Order, OrderLine, OrderStatus, OrderTotals, Payment, PaymentEvent,
    PaymentOutcome, PaymentStatus, StockMove, StockState,
};
use nanoshop_domain::settings::StoreSettings;
use nanoshop_schema::catalog::{
    AVAILABLE, ON_HAND, PRODUCT_ID, RESERVED, discount_key, settings_key, stock_key, variant_key,
};
use nanoshop_schema::orders::{ORDER_ID, intent_key, order_writes};
use nanoshop_schema::{DOC, encode};
use nanoshop_store::port::VERSION;
use nanoshop_store::{Item, Store, Table, Write};

/// The shipping method [`ship_to_germany`] offers, and its price.
pub const STANDARD: &str = "standard";
pub const STANDARD_PRICE: i64 = 490;

pub fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

/// An active product's variant `sku` at `price` EUR (minor units), with `on_hand` units in stock
/// and none reserved: what the cart and checkout read when they price a line.
pub async fn variant(store: &dyn Store, sku: &str, price: i64, on_hand: i64) {
    let parsed: Sku = sku.parse().unwrap();
    let snapshot = VariantSnapshot {
        product_id: ProductId::generate(),
        product_slug: format!("product-{}", sku.to_lowercase()).parse().unwrap(),
        product_title: format!("Product {sku}"),
        status: ProductStatus::Active,
        variant_title: "Default".into(),
        prices: vec![eur(price)],
        image_key: None,
        weight_grams: None,
    };
    let item = Item::new(&variant_key(&parsed))
        .with(PRODUCT_ID, snapshot.product_id.as_str())
        .with(DOC, encode(&snapshot).unwrap());
    store.put(Table::Catalog, item, None).await.unwrap();
    let stock = Item::new(&stock_key(&parsed))
        .with("sku", sku)
        .with(ON_HAND, on_hand)
        .with(RESERVED, 0)
        .with(AVAILABLE, on_hand)
        .with(VERSION, 1);
    store.put(Table::Catalog, stock, None).await.unwrap();
}

/// A SKU's stock as stored: (on hand, reserved, available).
pub async fn stock(store: &dyn Store, sku: &str) -> (i64, i64, i64) {
    let item = store.get(Table::Catalog, &stock_key(&sku.parse().unwrap())).await.unwrap().unwrap_or_default();
    (item.n(ON_HAND).unwrap_or(0), item.n(RESERVED).unwrap_or(0), item.n(AVAILABLE).unwrap_or(0))
}

/// Settings of a store selling in EUR, prices with tax included, shipping to Germany only by
/// [`STANDARD`] for [`STANDARD_PRICE`].
pub async fn ship_to_germany(store: &dyn Store) {
    let settings: StoreSettings = serde_json::from_value(serde_json::json!({
        "currencies": ["EUR"],
        "prices_include_tax": true,
        "tax_rates": [{"country": "DE", "region": null, "rate": "0.19"}],
        "shipping_zones": [{"name": "Germany", "countries": ["DE"], "methods": [
            {"id": STANDARD, "name": "Standard", "prices": [eur(STANDARD_PRICE)], "free_over": []}
        ]}],
        "version": 1
    }))
    .unwrap();
    let item = Item::new(&settings_key()).with(VERSION, 1).with(DOC, encode(&settings).unwrap());
    store.put(Table::Catalog, item, None).await.unwrap();
}

/// An active discount code taking `percentage` (`"0.10"`) off, without limits: what the catalog's
/// `POST /discounts` stores, where the cart and checkout look codes up.
pub async fn discount(store: &dyn Store, code: &str, percentage: &str) {
    let now = Utc::now();
    let discount = Discount {
        id: DiscountId::generate(),
        code: code.to_owned().try_into().unwrap(),
        kind: DiscountKind::Percentage(percentage.parse().unwrap()),
        min_subtotal: Vec::new(),
        starts_at: None,
        ends_at: None,
        usage_limit: None,
        once_per_customer: false,
        times_used: 0,
        active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let item = Item::new(&discount_key(discount.code.as_str())).with(VERSION, 1).with(DOC, encode(&discount).unwrap());
    store.put(Table::Catalog, item, None).await.unwrap();
}

/// An order as checkout leaves it (stock reserved, waiting for payment): `id`, for `email`, owned
/// by `customer` when given, of `quantity` units of `sku` at [`UNIT_PRICE`] each. The test creates
/// its PaymentIntent for `id` and [`PendingOrder::total`] at its payment processor, then stores it.
#[derive(Debug, Clone)]
pub struct PendingOrder<'a> {
    pub id: OrderId,
    pub customer: Option<&'a str>,
    pub email: &'a str,
    pub sku: &'a str,
    pub quantity: u32,
}

/// What each unit of a [`PendingOrder`] costs, in EUR minor units.
pub const UNIT_PRICE: i64 = 1000;

impl PendingOrder<'_> {
    /// What the order costs: its PaymentIntent's amount.
    pub fn total(&self) -> Money {
        eur(UNIT_PRICE * i64::from(self.quantity))
    }

    /// Stores the order, paid through the PaymentIntent `intent_id`, with its listings and the
    /// intent's pointer to it, and reserves its units of stock (the SKU's stock item must exist:
    /// [`variant`]).
    pub async fn store(&self, store: &dyn Store, intent_id: &str) -> Order {
        let now = Utc::now();
        let (unit, total) = (UNIT_PRICE, self.total().amount);
        let order = Order {
            id: self.id.clone(),
            number: "1".into(),
            status: OrderStatus::PendingPayment,
            payment_status: PaymentStatus::Pending,
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            email: self.email.into(),
            customer_id: self.customer.map(str::to_owned),
            currency: Currency::EUR,
            lines: vec![OrderLine {
                sku: self.sku.parse().unwrap(),
                title: format!("Product {}", self.sku),
                quantity: self.quantity,
                unit_price: eur(unit),
                line_total: eur(total),
                discount: eur(0),
                tax: eur(0),
            }],
            totals: OrderTotals {
                subtotal: eur(total),
                discount: eur(0),
                shipping: eur(0),
                tax: eur(0),
                total: eur(total),
                refunded: eur(0),
            },
            shipping_address: Address::new(UncheckedAddress {
                name: "Ada Lovelace".into(),
                line1: "Unter den Linden 1".into(),
                city: "Berlin".into(),
                postal_code: "10117".into(),
                country: "DE".into(),
                ..Default::default()
            })
            .unwrap(),
            billing_address: None,
            shipping_method: ChosenShipping { id: STANDARD.into(), name: "Standard".into(), price: eur(0) },
            discount_code: None,
            payment: Payment {
                provider: "stripe".into(),
                payment_intent_id: Some(intent_id.into()),
                client_secret: Some(format!("{intent_id}_secret")),
                publishable_key: Some("pk_test".into()),
            },
            fulfillments: Vec::new(),
            refunds: Vec::new(),
            stock: StockState::Reserved,
            flags: Vec::new(),
            payment_error: None,
            expires_at: now + TimeDelta::minutes(30),
            created_at: now,
            updated_at: now,
            version: 1,
            token_version: 0,
        };
        let mut writes = order_writes(None, &order).unwrap();
        writes.push(Write::Put {
            table: Table::Orders,
            item: Item::new(&intent_key(intent_id)).with(ORDER_ID, order.id.as_str()),
            condition: None,
        });
        store.transact(writes).await.unwrap();
        let (on_hand, reserved, _) = stock(store, self.sku).await;
        let reserved = reserved + i64::from(self.quantity);
        let item = Item::new(&stock_key(&self.sku.parse().unwrap()))
            .with("sku", self.sku)
            .with(ON_HAND, on_hand)
            .with(RESERVED, reserved)
            .with(AVAILABLE, on_hand - reserved)
            .with(VERSION, 2);
        store.put(Table::Catalog, item, None).await.unwrap();
        order
    }
}

/// `order` paid in full, as the payments webhook leaves it: the order `paid` and its reserved
/// units sold, in one transaction.
pub async fn paid(store: &dyn Store, order: &Order) -> Order {
    let event = PaymentEvent::Succeeded { amount: order.totals.total };
    let PaymentOutcome::Next { order: next, stock: Some(StockMove::Commit) } =
        order.on_payment(&event, Utc::now()).unwrap()
    else {
        panic!("only an order waiting for its payment can be paid");
    };
    let mut writes = order_writes(Some(order), &next).unwrap();
    for line in &order.lines {
        let quantity = i64::from(line.quantity);
        let (on_hand, reserved, available) = stock(store, line.sku.as_str()).await;
        let item = Item::new(&stock_key(&line.sku))
            .with("sku", line.sku.as_str())
            .with(ON_HAND, on_hand - quantity)
            .with(RESERVED, reserved - quantity)
            .with(AVAILABLE, available)
            .with(VERSION, 3);
        writes.push(Write::Put { table: Table::Catalog, item, condition: None });
    }
    store.transact(writes).await.unwrap();
    *next
}

/// An order as stored.
pub async fn order(store: &dyn Store, id: &OrderId) -> Order {
    let key = nanoshop_schema::orders::order_key(id);
    nanoshop_schema::decode(&store.get(Table::Orders, &key).await.unwrap().unwrap()).unwrap()
}
