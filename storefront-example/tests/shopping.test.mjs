// A guest shops: catalog, product, cart with a discount code, checkout, payment (paid and
// declined), and a product that sells out between cart and checkout.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newShopper, call, token, screenshot } from './helpers.mjs';
import { addToCart, fillAddress, fillCheckout, pay, heading, orderIdFromUrl, cartCount, focusIsOnHeading, ADDRESS } from './flows.mjs';

const PAYS = '4242 4242 4242 4242';
const DECLINED = '4000 0000 0000 0002';

let server;
let browser;
let admin;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  admin = await token(server.base, 'storefront-tests', { admin: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the catalog has categories, search, paging and empty states', async () => {
  const { context, page } = await newShopper(browser, server.base);
  try {
    await page.goto('/');
    await heading(page, 'All products');
    await page.getByRole('link', { name: 'Linen shirt' }).waitFor();
    await screenshot(page, 'catalog');

    await page.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'Kitchen' }).click();
    await heading(page, 'Kitchen');
    await focusIsOnHeading(page, 'Kitchen');
    const kitchen = await page.locator('.product-card__title').allTextContents();
    assert.deepEqual(kitchen.sort(), ['Linen tea towel', 'Stoneware mug']);

    await page.getByLabel('Search products').fill('linen');
    await page.getByRole('button', { name: 'Search' }).click();
    await heading(page, 'Results for “linen”');
    await page.getByRole('link', { name: 'Linen tea towel' }).waitFor();

    await page.getByLabel('Search products').fill('velvet');
    await page.getByLabel('Search products').press('Enter');
    await page.locator('main').getByText('No products match “velvet”').waitFor();
    await screenshot(page, 'catalog-empty');

    // Two per page: the next page has other products, and the first page comes back.
    await page.goto('/#/?limit=2');
    await heading(page, 'All products');
    const first = await page.locator('.product-card__title').allTextContents();
    assert.equal(first.length, 2);
    await page.getByRole('link', { name: 'Next page →' }).click();
    await page.getByRole('link', { name: '← First page' }).waitFor();
    const second = await page.locator('.product-card__title').allTextContents();
    assert.equal(second.length, 2);
    assert.ok(second.every((t) => !first.includes(t)), `${second} repeats ${first}`);

    // The product page works with the keyboard alone: arrows pick the size, Enter adds it.
    await page.goto('/#/product/oxford-shirt');
    await heading(page, 'Oxford shirt');
    await page.getByRole('radio', { name: 'S', exact: true }).focus();
    await page.keyboard.press('ArrowRight');
    assert.ok(await page.getByRole('radio', { name: 'M', exact: true }).isChecked());
    await page.locator('main').getByText('SKU OX-M').waitFor();
    await page.keyboard.press('Tab'); // quantity
    await page.keyboard.press('Tab'); // add to cart
    await page.keyboard.press('Enter');
    await page.locator('main').getByRole('status').filter({ hasText: 'Added 1 × Oxford shirt — M to your cart.' }).waitFor();
    assert.equal(await cartCount(page), 1);
    // With something in the cart, prices stay in the cart's currency.
    assert.ok(await page.getByLabel('Currency').isDisabled());
    await page.evaluate(() => localStorage.clear());

    // Prices in the chosen currency.
    await page.goto('/#/');
    await page.reload();
    await page.getByLabel('Currency').selectOption('USD');
    await page.locator('main').getByText('US$54.00').first().waitFor();
    await page.goto('/#/product/linen-shirt');
    await page.locator('main').getByText('US$54.00').waitFor();
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});

test('a guest buys two variants with a discount code and a test card; the order is paid', async () => {
  const created = await call(server.base, 'POST', '/discounts', {
    token: admin, body: { code: 'SPRING10', kind: 'percentage', percentage: '0.10' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const { context, page } = await newShopper(browser, server.base);
  try {
    await page.goto('/#/product/linen-shirt');
    await heading(page, 'Linen shirt');
    await page.getByRole('radio', { name: 'M', exact: true }).check();
    await page.locator('main').getByText('€49.00').waitFor();
    await screenshot(page, 'product');
    await addToCart(page, 'linen-shirt', 'M', 2);
    await screenshot(page, 'product-added');
    await addToCart(page, 'stoneware-mug', 'Slate', 1);
    assert.equal(await cartCount(page), 3);

    await page.getByRole('link', { name: /^Cart/ }).click();
    await heading(page, 'Your cart');
    await focusIsOnHeading(page, 'Your cart');
    await page.getByRole('heading', { name: 'Linen shirt' }).waitFor();
    await page.getByRole('heading', { name: 'Stoneware mug' }).waitFor();

    // A wrong code is explained next to the field, in words.
    await page.getByLabel('Discount code').fill('NOPE');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('main').getByText("That discount code isn't valid").waitFor();
    assert.equal(await page.getByLabel('Discount code').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'cart-invalid-discount');

    await page.getByLabel('Discount code').fill('spring10');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('main').getByText('Code SPRING10 applied').waitFor();
    // (2 × 49.00 + 18.00) = 116.00, 10% off = 11.60.
    await page.locator('.totals').getByText('−€11.60').waitFor();

    // Delivery options and tax for an address, already in the cart.
    await page.getByRole('button', { name: 'Enter delivery address' }).click();
    await fillAddress(page);
    await page.getByRole('button', { name: 'Show delivery options' }).click();
    await page.locator('main').getByText(`Deliver to ${ADDRESS.name}`).waitFor();
    await page.getByRole('radio', { name: /Express/ }).check();
    await page.locator('.totals').getByText('€12.90').waitFor();
    // Germany: 19% VAT included in 104.40 + 12.90.
    await page.locator('.totals').getByText('€18.73').waitFor();
    await screenshot(page, 'cart');

    await page.getByRole('link', { name: 'Go to checkout' }).click();
    await heading(page, 'Checkout');
    // The address comes from the cart; the shopper picks the cheaper option after all.
    assert.equal(await page.getByLabel('City').inputValue(), 'Berlin');
    assert.ok(await page.getByRole('radio', { name: /Express/ }).isChecked());
    await fillCheckout(page, { address: null });
    // Germany: 19% VAT included; standard delivery is free over €75.
    await page.locator('.totals [data-total]').getByText('€104.40').waitFor();
    await screenshot(page, 'checkout');
    await page.getByRole('button', { name: 'Continue to payment' }).click();

    await heading(page, 'Payment');
    await page.getByRole('button', { name: 'Pay €104.40' }).waitFor();
    assert.equal(await cartCount(page), 0, 'the checked-out cart is no longer the shopper cart');
    await screenshot(page, 'payment');
    await pay(page, PAYS);

    await heading(page, 'Thank you for your order!');
    await page.locator('main').getByText(/Order #[0-9A-Z]+ is confirmed and paid/).waitFor();
    await screenshot(page, 'confirmation');
    const orderId = orderIdFromUrl(page);

    const { status, body: order } = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    assert.equal(status, 200, JSON.stringify(order));
    assert.equal(order.status, 'paid');
    assert.equal(order.payment_status, 'succeeded');
    assert.equal(order.email, 'ada@example.com');
    assert.deepEqual(order.lines.map((l) => [l.sku, l.quantity]).sort(), [['LS-M', 2], ['MUG-SLATE', 1]]);
    assert.equal(order.totals.discount.amount, 1160);
    assert.equal(order.totals.total.amount, 10440);

    // The order-status page, as the guest sees it later (order token kept in this browser).
    await page.reload();
    await page.goto(`/#/order/${orderId}`);
    await heading(page, `Order #${order.number}`);
    await page.locator('main').getByText('Paid. We are preparing your order.').waitFor();
    await screenshot(page, 'order-status');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});

test('a declined card is explained and the order stays payable', async () => {
  const { context, page } = await newShopper(browser, server.base);
  try {
    await addToCart(page, 'linen-shirt', 'L', 1);
    await page.goto('/#/checkout');
    await fillCheckout(page, { email: 'grace@example.com' });
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await pay(page, DECLINED);

    const alert = page.locator('main').getByRole('alert');
    await alert.getByText('Your card was declined.').waitFor();
    await alert.getByText('Nothing was charged').waitFor();
    // The message takes focus, so a screen reader reads it at once.
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'alert');
    await screenshot(page, 'payment-declined');
    const orderId = orderIdFromUrl(page);
    const pending = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    assert.equal(pending.body.status, 'pending_payment');
    assert.equal(pending.body.payment_status, 'failed');

    // The order page offers to pay; paying with a good card completes it.
    await page.goto(`/#/order/${orderId}`);
    await page.locator('main').getByText('This order is waiting for payment.').waitFor();
    await page.getByRole('link', { name: 'Pay now' }).click();
    await pay(page, PAYS);
    await heading(page, 'Thank you for your order!');
    const paid = await call(server.base, 'GET', `/orders/${orderId}`, { token: admin });
    assert.equal(paid.body.status, 'paid');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});

test('items sold out between cart and checkout are named, with what is left', async () => {
  const { context, page } = await newShopper(browser, server.base);
  try {
    await addToCart(page, 'oxford-shirt', 'S', 2);
    await addToCart(page, 'chino-trousers', 'M', 2);
    await page.goto('/#/checkout');
    await fillCheckout(page, { email: 'linus@example.com' });

    // Meanwhile the shop sells out: one item entirely, the other down to one.
    for (const [sku, onHand] of [['OX-S', 0], ['CH-M', 1]]) {
      const r = await call(server.base, 'PUT', `/inventory/${sku}`, { token: admin, body: { on_hand: onHand } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    const alert = page.locator('main').getByRole('alert');
    await alert.getByText('Some items sold out while you were checking out.').waitFor();
    await alert.getByText('Oxford shirt (S) is sold out.').waitFor();
    await alert.getByText('Chino trousers (M): only 1 left — you asked for 2.').waitFor();
    await screenshot(page, 'checkout-sold-out');

    await alert.getByRole('link', { name: 'Review your cart' }).click();
    await heading(page, 'Your cart');
    await page.locator('main').getByText('Sold out — please remove it from your cart.').waitFor();
    await page.locator('main').getByText('Only 1 left — please lower the quantity.').waitFor();
    assert.ok(await page.getByRole('button', { name: 'Go to checkout' }).isDisabled());
    await screenshot(page, 'cart-unavailable');

    await page.getByRole('button', { name: 'Change to 1' }).click();
    await page.locator('main').getByText('Only 1 left').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Remove Oxford shirt — S' }).click();
    await page.getByRole('heading', { name: 'Oxford shirt' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Go to checkout' }).click();
    await fillCheckout(page, { email: 'linus@example.com' });
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await pay(page, PAYS);
    await heading(page, 'Thank you for your order!');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await context.close();
  }
});
