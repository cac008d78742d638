// The merchant console (storefront-example/admin): a merchant's day. A product with two variants
// and an image, stock, a discount; a shopper buys in the storefront; the merchant ships it with
// tracking, refunds one line and puts it back in stock, and the inventory shows it. Then the
// errors: a field error beside its field, and a 412 that shows what changed and retries.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newShopper, call, token, screenshot } from './helpers.mjs';
import { addToCart, fillCheckout, pay, heading, orderIdFromUrl } from './flows.mjs';

const PAYS = '4242 4242 4242 4242';
// A 1×1 PNG, uploaded through the presigned URL as the product's image.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let server;
let browser;
let admin;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  admin = await token(server.base, 'console-tests', { admin: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The merchant's browser, signed in with the local one-click admin token. */
async function merchant() {
  const { context, page } = await newShopper(browser, server.base);
  // `/admin` without the slash reaches the console too.
  await page.goto('/admin');
  await heading(page, 'Sign in to the console');
  assert.match(page.url(), /\/admin\/#\/signin$/);
  return { context, page };
}

/** On hand, reserved and available of `sku` as the inventory screen shows them. */
async function stockShown(page, sku) {
  const row = page.locator(`tr[data-sku="${sku}"]`);
  await row.waitFor();
  const cell = async (col) => Number(await row.locator(`[data-col="${col}"]`).textContent());
  return { on_hand: await cell('on_hand'), reserved: await cell('reserved'), available: await cell('available') };
}

async function setStock(page, sku, units) {
  await page.getByLabel(`On hand of ${sku}`).fill(String(units));
  await page.getByRole('button', { name: `Save ${sku}` }).click();
  await page.locator(`tr[data-sku="${sku}"]`).getByText(`Saved: ${units} on hand.`).waitFor();
}

test("a merchant's day: product, stock, discount, a sale, shipping, a refund with restock", async () => {
  const { context, page } = await merchant();
  const shopper = await newShopper(browser, server.base);
  try {
    await screenshot(page, 'console-signin');
    await page.getByRole('button', { name: 'Sign in as the local admin' }).click();
    await heading(page, 'Orders');
    await page.locator('main').getByText('No orders yet.').waitFor();

    // A product with two variants, priced in two currencies.
    await page.getByRole('link', { name: 'Products' }).click();
    await heading(page, 'Products');
    await page.getByRole('link', { name: 'New product' }).click();
    await heading(page, 'New product');
    await page.getByLabel('Title', { exact: true }).fill('Canvas tote');
    await page.getByLabel('Slug').fill('canvas-tote');
    await page.getByLabel('Status').selectOption('active');
    await page.getByLabel('Tags').fill('bags, canvas');
    await page.getByLabel('Options').fill('Colour: Natural, Black');
    const variant = (i) => page.locator(`[data-variant="${i}"]`);
    await variant(0).getByLabel('SKU').fill('TOTE-NAT');
    await variant(0).getByLabel('Option values').fill('Natural');
    await variant(0).getByLabel('Prices').fill('25.00 EUR, 28.00 USD');
    await page.getByRole('button', { name: 'Add a variant' }).click();
    await variant(1).getByLabel('SKU').fill('TOTE-BLK');
    await variant(1).getByLabel('Option values').fill('Black');
    await variant(1).getByLabel('Prices').fill('25.00 EUR, 28.00 USD');
    await page.getByRole('button', { name: 'Create product' }).click();
    await heading(page, 'Canvas tote');
    await page.locator('main').getByText('Product created.').waitFor();

    // Its image goes straight to storage through the presigned URL.
    await page.getByLabel('Image file').setInputFiles({ name: 'tote.png', mimeType: 'image/png', buffer: PNG });
    await page.getByLabel('Image description').fill('The tote, front');
    await page.getByRole('button', { name: 'Upload image' }).click();
    await page.locator('main').getByText('Image uploaded.').waitFor();
    const image = page.locator('.images img[alt="The tote, front"]');
    await image.waitFor();
    await page.waitForFunction(() => document.querySelector('.images img')?.naturalWidth === 1);
    await screenshot(page, 'console-product');

    const { body: product } = await call(server.base, 'GET', '/products/canvas-tote', { token: admin });
    assert.deepEqual(product.variants.map((v) => [v.sku, v.options, v.prices]), [
      ['TOTE-NAT', { Colour: 'Natural' }, [{ amount: 2500, currency: 'EUR' }, { amount: 2800, currency: 'USD' }]],
      ['TOTE-BLK', { Colour: 'Black' }, [{ amount: 2500, currency: 'EUR' }, { amount: 2800, currency: 'USD' }]],
    ]);
    assert.equal(product.images.length, 1);

    // Stock.
    await page.goto('/admin/#/inventory?q=tote');
    await heading(page, 'Inventory');
    await setStock(page, 'TOTE-NAT', 10);
    await setStock(page, 'TOTE-BLK', 5);
    assert.deepEqual(await stockShown(page, 'TOTE-BLK'), { on_hand: 5, reserved: 0, available: 5 });
    await screenshot(page, 'console-inventory');

    // A discount.
    await page.getByRole('link', { name: 'Discounts' }).click();
    await heading(page, 'Discounts');
    await page.getByLabel('Code').fill('tote5');
    await page.getByLabel('Percentage off').fill('5');
    await page.getByRole('button', { name: 'Create discount' }).click();
    await page.locator('tr[data-code="TOTE5"]').getByText('5 %').waitFor();
    await screenshot(page, 'console-discounts');

    // A shopper buys two natural and one black tote in the storefront, with the code.
    const { page: shop } = shopper;
    await addToCart(shop, 'canvas-tote', 'Natural', 2);
    await addToCart(shop, 'canvas-tote', 'Black', 1);
    await shop.goto('/#/cart');
    await heading(shop, 'Your cart');
    await shop.getByLabel('Discount code').fill('TOTE5');
    await shop.getByRole('button', { name: 'Apply' }).click();
    await shop.locator('main').getByText('Code TOTE5 applied').waitFor();
    await shop.getByRole('link', { name: 'Go to checkout' }).click();
    await fillCheckout(shop, { email: 'tote@example.com' });
    await shop.getByRole('button', { name: 'Continue to payment' }).click();
    await pay(shop, PAYS);
    await heading(shop, 'Thank you for your order!');
    const orderId = orderIdFromUrl(shop);

    // The merchant finds it by e-mail and ships it with tracking.
    await page.getByRole('link', { name: 'Orders' }).click();
    await heading(page, 'Orders');
    await page.getByLabel('Order number or e-mail').fill('tote@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    const { body: order } = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    await page.getByRole('link', { name: `#${order.number}` }).waitFor();
    await screenshot(page, 'console-orders');
    // And by number.
    await page.getByLabel('Order number or e-mail').fill(order.number);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(new RegExp(`q=${order.number}`));
    await page.getByRole('link', { name: `#${order.number}` }).click();
    await heading(page, `Order #${order.number}`);
    await page.locator('[data-stock]').getByText('committed').waitFor();
    await screenshot(page, 'console-order');

    await page.getByLabel('Carrier').fill('DHL');
    await page.getByLabel('Tracking number').fill('00340434161234567890');
    await page.getByRole('button', { name: 'Mark as shipped' }).click();
    await page.locator('main').getByText('Shipped 3 units with DHL.').waitFor();
    await page.locator('main').getByText('DHL 00340434161234567890').waitFor();

    // The black tote came back: refund its line (its share of the discount off) and restock it.
    await page.getByLabel('Amount (EUR)').fill('23.75');
    await page.getByLabel('Reason').fill('returned');
    await page.getByLabel('Units of TOTE-BLK to restock').fill('1');
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.locator('main').getByText('Refunded €23.75; 1 back in stock.').waitFor();
    await page.locator('[data-total="refunded"]').getByText('€23.75').waitFor();
    await screenshot(page, 'console-order-refunded');

    const { body: after } = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    assert.equal(after.status, 'fulfilled');
    assert.equal(after.fulfillments[0].tracking_number, '00340434161234567890');
    assert.deepEqual(after.refunds.map((r) => [r.amount.amount, r.restock]), [[2375, [['TOTE-BLK', 1]]]]);

    // The stock screen shows the sale and the restock.
    await page.goto('/admin/#/inventory?q=tote');
    await heading(page, 'Inventory');
    assert.deepEqual(await stockShown(page, 'TOTE-NAT'), { on_hand: 8, reserved: 0, available: 8 });
    assert.deepEqual(await stockShown(page, 'TOTE-BLK'), { on_hand: 5, reserved: 0, available: 5 });

    // The remaining screens open.
    await page.getByRole('link', { name: 'Categories' }).click();
    await heading(page, 'Categories');
    await page.locator('main').getByText('Kitchen (kitchen)').waitFor();
    await screenshot(page, 'console-categories');
    await page.getByRole('link', { name: 'Settings' }).click();
    await heading(page, 'Store settings');
    assert.match(await page.getByLabel('Currencies').inputValue(), /EUR/);
    await screenshot(page, 'console-settings');
    assert.deepEqual(page.scriptErrors, []);
    assert.deepEqual(shop.scriptErrors, []);
  } finally {
    await shopper.context.close();
    await context.close();
  }
});

test('errors: a field error beside its field, and a 412 that shows what changed and retries', async () => {
  const { context, page } = await merchant();
  try {
    await page.getByRole('button', { name: 'Sign in as the local admin' }).click();
    await heading(page, 'Orders');

    // The API refuses the slug: its message is shown beside the slug field.
    await page.goto('/admin/#/products/new');
    await heading(page, 'New product');
    await page.getByLabel('Title', { exact: true }).fill('Broken');
    await page.getByLabel('Slug').fill('Not a slug!');
    await page.locator('[data-variant="0"]').getByLabel('SKU').fill('BROKEN-1');
    await page.locator('[data-variant="0"]').getByLabel('Prices').fill('10.00 EUR');
    await page.getByRole('button', { name: 'Create product' }).click();
    const slugError = page.locator('[data-field="slug"] .field-error');
    await slugError.waitFor();
    assert.ok((await slugError.textContent()).length > 0);
    assert.equal(await page.getByLabel('Slug').getAttribute('aria-invalid'), 'true');
    await page.locator('main').getByRole('alert').waitFor();
    await screenshot(page, 'console-field-error');

    // Someone else sets the stock while the merchant looks at it: 412, what changed, retry.
    await page.goto('/admin/#/inventory?q=linen shirt');
    await heading(page, 'Inventory');
    const before = await stockShown(page, 'LS-S');
    const meanwhile = await call(server.base, 'PUT', '/inventory/LS-S', { token: admin, body: { on_hand: before.on_hand + 7 } });
    assert.equal(meanwhile.status, 200);
    await page.getByLabel('On hand of LS-S').fill('3');
    await page.getByRole('button', { name: 'Save LS-S' }).click();
    const conflict = page.locator('tr[data-sku="LS-S"] .conflict');
    await conflict.getByText(`on_hand: ${before.on_hand} → now ${before.on_hand + 7}`).waitFor();
    assert.deepEqual(await stockShown(page, 'LS-S'), { ...before, on_hand: before.on_hand + 7, available: before.available + 7 });
    await screenshot(page, 'console-conflict');
    await conflict.getByRole('button', { name: 'Set 3 on hand anyway' }).click();
    await page.locator('tr[data-sku="LS-S"]').getByText('Saved: 3 on hand.').waitFor();
    const { body: level } = await call(server.base, 'GET', '/inventory/LS-S', { token: admin });
    assert.equal(level.on_hand, 3);

    // A product renamed by someone else while the merchant edits its description.
    const { body: mug } = await call(server.base, 'GET', '/products/stoneware-mug', { token: admin });
    await page.goto(`/admin/#/products/${mug.id}`);
    await heading(page, 'Stoneware mug');
    const renamed = await call(server.base, 'PATCH', `/products/${mug.id}`, { token: admin, body: { title: 'Stoneware mug (large)' } });
    assert.equal(renamed.status, 200);
    await page.getByLabel('Description', { exact: true }).fill('Now dishwasher safe.');
    await page.getByRole('button', { name: 'Save product' }).click();
    const changed = page.locator('main .conflict');
    await changed.getByText('title: Stoneware mug → now Stoneware mug (large)').waitFor();
    await changed.getByRole('button', { name: 'Discard mine and reload' }).click();
    await page.locator('main').getByText('Reloaded the current version.').waitFor();
    assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Stoneware mug (large)');
    await page.getByLabel('Description', { exact: true }).fill('Now dishwasher safe.');
    await page.getByRole('button', { name: 'Save product' }).click();
    await page.locator('main').getByText('Product saved.').waitFor();
    const { body: saved } = await call(server.base, 'GET', `/products/${mug.id}`, { token: admin });
    assert.deepEqual([saved.title, saved.description], ['Stoneware mug (large)', 'Now dishwasher safe.']);
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});

test("signed in with a pasted token, the merchant sees an order's flags, cancels it unpaid, and its stock is released", async () => {
  const { context, page } = await merchant();
  const shopper = await newShopper(browser, server.base);
  try {
    // A deployed store's way in (until OpenID sign-in): the token is pasted.
    await page.getByLabel('Admin token (JWT)').fill('not a token');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.locator('[data-field="token"] .field-error').waitFor();
    await page.getByLabel('Admin token (JWT)').fill(admin);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await heading(page, 'Orders');
    await page.getByRole('button', { name: 'Sign out (console-tests)' }).waitFor();
    const { page: shop } = shopper;
    await addToCart(shop, 'linen-shirt', 'M', 1);
    await shop.goto('/#/checkout');
    await fillCheckout(shop, { email: 'unpaid@example.com' });
    await shop.getByRole('button', { name: 'Continue to payment' }).click();
    await heading(shop, 'Payment');
    const orderId = orderIdFromUrl(shop);
    const held = await call(server.base, 'GET', '/inventory/LS-M', { token: admin });
    assert.equal(held.body.reserved, 1);

    await page.goto('/admin/#/orders?status=pending_payment');
    await heading(page, 'Orders');
    const { body: order } = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    await page.getByRole('link', { name: `#${order.number}` }).click();
    await heading(page, `Order #${order.number}`);
    assert.equal(await page.locator('main .flags').count(), 0);

    // Flags need the provider to misbehave; the screen is shown one as the API would send it.
    const url = `${server.base}/orders/${orderId}`;
    await page.route(url, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), flags: ['disputed', 'payment_mismatch'] } });
    });
    await page.reload();
    await heading(page, `Order #${order.number}`);
    const flags = page.locator('main .flags[role="alert"]');
    await flags.getByText('Needs attention').waitFor();
    assert.deepEqual(await flags.locator('[data-flag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-flag'))), ['disputed', 'payment_mismatch']);
    await flags.getByText(/a chargeback/).waitFor();
    await screenshot(page, 'console-order-flags');
    await page.unroute(url);
    await page.reload();
    await heading(page, `Order #${order.number}`);

    await page.getByRole('button', { name: 'Cancel this order…' }).click();
    await page.getByRole('button', { name: `Yes, cancel order #${order.number}` }).click();
    await page.locator('main').getByText(`Order #${order.number} cancelled.`).waitFor();
    await page.locator('main .badge').getByText('Cancelled').waitFor();
    const released = await call(server.base, 'GET', '/inventory/LS-M', { token: admin });
    assert.equal(released.body.reserved, 0);
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await shopper.context.close();
    await context.close();
  }
});

test('shipping zones: edited through a form, with each field error beside its field', async () => {
  const { context, page } = await merchant();
  try {
    await page.getByRole('button', { name: 'Sign in as the local admin' }).click();
    await heading(page, 'Orders');
    await page.goto('/admin/#/settings');
    await heading(page, 'Store settings');
    const eu = page.locator('[data-zone="0"]');
    assert.equal(await eu.getByLabel('Zone name').inputValue(), 'EU');
    assert.equal(await eu.getByLabel('Countries').inputValue(), 'DE, FR, NL, AT');
    const standard = eu.locator('[data-rate="0"]');
    assert.equal(await standard.getByLabel('Price per currency').inputValue(), '4.90 EUR, 5.50 USD');

    // The EU's standard rate goes up; a new zone gets one rate, and a country the EU already has.
    await standard.getByLabel('Price per currency').fill('5.90 EUR, 6.50 USD');
    await page.getByRole('button', { name: 'Add a shipping zone' }).click();
    const nordics = page.locator('[data-zone="2"]');
    await nordics.getByLabel('Zone name').fill('Nordics');
    await nordics.getByLabel('Countries').fill('se, dk, de');
    const rate = nordics.locator('[data-rate="0"]');
    await rate.getByLabel('Rate name').fill('Post (2–4 days)');
    await rate.getByLabel('Rate id').fill('post');
    await rate.getByLabel('Price per currency').fill('7,50 EUR');

    // A price the form cannot read: refused beside that field, before anything is sent.
    await page.getByRole('button', { name: 'Save settings' }).click();
    const priceError = nordics.locator('[data-field="shipping_zones[2].methods[0].prices"] .field-error');
    await priceError.waitFor();
    assert.match(await priceError.textContent(), /is not an amount and currency/);
    assert.equal(await rate.getByLabel('Price per currency').getAttribute('aria-invalid'), 'true');

    // What the API refuses (DE is in the EU zone already) is shown beside the zone's countries.
    await rate.getByLabel('Price per currency').fill('7.50 EUR');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const countriesError = nordics.locator('[data-field="shipping_zones[2].countries"] .field-error');
    await countriesError.waitFor();
    assert.match(await countriesError.textContent(), /DE is already in another zone/);
    assert.equal(await priceError.count(), 0, 'the fixed price no longer shows an error');
    await screenshot(page, 'console-shipping-zone-error');

    await nordics.getByLabel('Countries').fill('SE, DK');
    // What the order e-mails say about the store is saved with the rest.
    await page.getByLabel('Store name').fill('Linen & Co');
    await page.getByLabel('Postal address').fill('Hauptstraße 5\n10115 Berlin');
    await page.getByLabel('Locale').selectOption('de-DE');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('main').getByText('Settings saved.').first().waitFor();
    await screenshot(page, 'console-shipping-zones');

    const { body: settings } = await call(server.base, 'GET', '/settings', { token: admin });
    const zones = Object.fromEntries(settings.shipping_zones.map((z) => [z.name, z]));
    assert.deepEqual(zones.EU.methods[0].prices, [{ amount: 590, currency: 'EUR' }, { amount: 650, currency: 'USD' }]);
    assert.deepEqual(zones.EU.methods[0].free_over, [{ amount: 7500, currency: 'EUR' }], 'what was not edited is kept');
    assert.deepEqual([settings.store_name, settings.store_address, settings.reply_to, settings.locale],
      ['Linen & Co', 'Hauptstraße 5\n10115 Berlin', null, 'de-DE']);
    assert.deepEqual(zones.Nordics, {
      name: 'Nordics', countries: ['SE', 'DK'],
      methods: [{ id: 'post', name: 'Post (2–4 days)', prices: [{ amount: 750, currency: 'EUR' }], free_over: [] }],
    });
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});
