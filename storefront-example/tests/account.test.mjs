// A guest's cart survives a reload and comes along on sign-in; the customer's order appears in
// their order history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newShopper, call, token, screenshot } from './helpers.mjs';
import { addToCart, fillCheckout, pay, heading, orderIdFromUrl, cartCount, ADDRESS } from './flows.mjs';

let server;
let browser;
let shopper;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  // One shopper for the whole story: the tests below are its chapters, in order.
  shopper = await newShopper(browser, server.base);
});

after(async () => {
  await shopper?.context.close();
  await browser?.close();
  await server?.stop();
});

test('an empty cart says so and offers the shop', async () => {
  const { page } = shopper;
  await page.goto('/#/cart');
  await heading(page, 'Your cart');
  await page.locator('main').getByText('Your cart is empty.').waitFor();
  await screenshot(page, 'cart-empty');
});

test('a reload keeps the cart', async () => {
  const { page } = shopper;
  await addToCart(page, 'linen-tea-towel', null, 2);
  await addToCart(page, 'chino-trousers', 'L', 1);
  await page.reload();
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
  assert.equal(await cartCount(page), 3);
  await page.goto('/#/cart');
  await page.reload();
  await heading(page, 'Your cart');
  await page.getByRole('heading', { name: 'Linen tea towel' }).waitFor();
  assert.equal(await page.getByLabel('Quantity of Linen tea towel').inputValue(), '2');
  // Quantities change in place; the totals follow.
  await page.getByLabel('Quantity of Linen tea towel').fill('3');
  await page.getByLabel('Quantity of Linen tea towel').press('Tab');
  await page.locator('.totals [data-total]').getByText('€115.00').waitFor();
  assert.equal(await cartCount(page), 4);
});

test('signing in claims the guest cart', async () => {
  const { page } = shopper;
  await page.getByRole('link', { name: 'Sign in' }).click();
  await heading(page, 'Sign in');
  await screenshot(page, 'signin');
  // The form explains what is missing.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('main').getByText('Enter a customer id').waitFor();
  await page.getByLabel('Customer id').fill('cust_ada');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: /Account/ }).waitFor();
  assert.equal(await cartCount(page), 4);

  // The cart is now the customer's, on the server: it opens with their token.
  const customer = await token(server.base, 'cust_ada', { email: 'ada@example.com' });
  const mine = await call(server.base, 'GET', '/me/cart', { token: customer });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.customer_id, 'cust_ada');
  assert.deepEqual(mine.body.items.map((l) => [l.sku, l.quantity]).sort(), [['CH-L', 1], ['TOWEL', 3]]);

  await page.goto('/#/cart');
  await page.reload();
  await page.getByRole('heading', { name: 'Linen tea towel' }).waitFor();
});

let orderNumber;
test('the signed-in customer checks out with their e-mail prefilled', async () => {
  const { page } = shopper;
  await page.goto('/#/checkout');
  await heading(page, 'Checkout');
  assert.equal(await page.getByLabel('Email').inputValue(), 'ada@example.com');
  await fillCheckout(page, { email: null });
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await pay(page, '4242424242424242');
  await heading(page, 'Thank you for your order!');
  const id = orderIdFromUrl(page);
  const customer = await token(server.base, 'cust_ada');
  const order = await call(server.base, 'GET', `/orders/${id}`, { token: customer });
  assert.equal(order.status, 200, JSON.stringify(order.body));
  assert.equal(order.body.customer_id, 'cust_ada');
  orderNumber = order.body.number;
});

test("the order appears in the customer's history", async () => {
  const { page } = shopper;
  assert.ok(orderNumber, 'the checkout test placed an order');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await heading(page, 'Your orders');
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `#${orderNumber}` }) });
  await row.getByText('Paid', { exact: true }).waitFor();
  await screenshot(page, 'order-history');

  // Signed out, the history is gone from the page; signed in again, it is back.
  await page.getByRole('link', { name: /Account/ }).click();
  await heading(page, 'Your account');
  await screenshot(page, 'account');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal(await cartCount(page), 0);
  // Nothing of the customer's stays behind for the next person at this browser.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await page.locator('main').getByText('No orders were placed in this browser yet.').waitFor();
  assert.deepEqual(page.scriptErrors, []);
});

test('an order left unpaid on one device is paid on another', async () => {
  // The first device: the customer checks out through the API and walks away before paying.
  const customer = await token(server.base, 'cust_ada', { email: 'ada@example.com' });
  const cart = await call(server.base, 'POST', '/carts', { token: customer, body: { currency: 'EUR', items: [{ sku: 'TOWEL', quantity: 1 }] } });
  assert.equal(cart.status, 201, JSON.stringify(cart.body));
  const placed = await call(server.base, 'POST', '/checkout', {
    token: customer,
    headers: { 'idempotency-key': 'other-device-1' },
    body: { cart_id: cart.body.id, email: 'ada@example.com', shipping_address: ADDRESS, shipping_method: 'standard' },
  });
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const { id, number } = placed.body.order;

  // The second device knows nothing of it but the customer's sign-in.
  const other = await newShopper(browser, server.base);
  try {
    const { page } = other;
    await page.goto('/#/signin');
    await page.getByLabel('Customer id').fill('cust_ada');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: /Account/ }).waitFor();
    await page.goto(`/#/order/${encodeURIComponent(id)}`);
    await heading(page, `Order #${number}`);
    await page.getByText('This order is waiting for payment.').waitFor();
    await page.getByRole('link', { name: 'Pay now' }).click();
    await pay(page, '4242424242424242');
    await heading(page, 'Thank you for your order!');
    const order = await call(server.base, 'GET', `/orders/${id}`, { token: customer });
    assert.equal(order.body.status, 'paid', JSON.stringify(order.body));
    assert.equal(order.body.payment.client_secret, undefined, 'the secret is dropped once paid');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await other.context.close();
  }
});
