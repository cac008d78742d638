// The customer's account page (profile, address book, latest orders) and saved addresses offered
// at checkout, on the customer-accounts routes (`/me`, `/me/addresses`; docs/api.md). The tests
// are one story, in order: each chapter starts where the one before left the page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newShopper, call, token, screenshot } from './helpers.mjs';
import { addToCart, fillCheckout, pay, heading, orderIdFromUrl, ADDRESS } from './flows.mjs';

const OFFICE = { name: 'Ada Lovelace', line1: 'Jungfernstieg 7', postal_code: '20354', city: 'Hamburg', country: 'DE' };

let server;
let browser;
let shopper;
let customer;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  shopper = await newShopper(browser, server.base);
  customer = await token(server.base, 'cust_acc', { email: 'acc@example.com' });
});

after(async () => {
  await shopper?.context.close();
  await browser?.close();
  await server?.stop();
});

const me = () => call(server.base, 'GET', '/me', { token: customer });
const book = () => call(server.base, 'GET', '/me/addresses', { token: customer });

test('signed in, the account page keeps a profile', async () => {
  const { page } = shopper;
  await page.goto('/#/signin');
  await page.getByLabel('Customer id').fill('cust_acc');
  await page.getByLabel('Email').fill('acc@example.com');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: /Account/ }).click();
  await heading(page, 'Your account');
  const profile = page.locator('form').filter({ has: page.getByRole('button', { name: 'Save profile' }) });
  await profile.getByLabel('Name').fill('Ada Lovelace');
  await profile.getByLabel('Phone').fill('+49 30 1234567');
  await profile.getByLabel('Send me news and offers by e-mail').check();
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await profile.getByRole('status').getByText('Saved.').waitFor();
  const saved = await me();
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  assert.equal(saved.body.name, 'Ada Lovelace');
  assert.equal(saved.body.phone, '+49 30 1234567');
  assert.equal(saved.body.marketing_consent, true);
  await page.reload();
  await heading(page, 'Your account');
  assert.equal(await profile.getByLabel('Name').inputValue(), 'Ada Lovelace');
  assert.equal(await profile.getByLabel('Send me news and offers by e-mail').isChecked(), true);
});

test('a phone the API refuses is explained beside the field, and nothing is saved', async () => {
  const { page } = shopper;
  const profile = page.locator('form').filter({ has: page.getByRole('button', { name: 'Save profile' }) });
  await profile.getByLabel('Phone').fill('call me');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await profile.locator('[data-field="phone"] .field-error').waitFor();
  assert.equal(await profile.getByLabel('Phone').getAttribute('aria-invalid'), 'true');
  assert.equal((await me()).body.phone, '+49 30 1234567');
  await page.reload();
  await heading(page, 'Your account');
});

test('the address book: the first address is both defaults, another takes billing', async () => {
  const { page } = shopper;
  await page.getByRole('button', { name: 'Add an address' }).click();
  await page.getByLabel('Label').fill('Home');
  await page.getByLabel('Full name').fill(ADDRESS.name);
  await page.getByLabel('Address', { exact: true }).fill(ADDRESS.line1);
  await page.getByLabel('Postal code').fill(ADDRESS.postal_code);
  await page.getByLabel('City').fill(ADDRESS.city);
  await page.getByLabel('Country').selectOption(ADDRESS.country);
  await page.getByRole('button', { name: 'Add address' }).click();
  const home = page.locator('.address-card').filter({ hasText: 'Home' });
  await home.getByText('Default delivery').waitFor();
  await home.getByText('Default billing').waitFor();

  await page.getByRole('button', { name: 'Add an address' }).click();
  await page.getByLabel('Label').fill('Office');
  await page.getByLabel('Full name').fill(OFFICE.name);
  await page.getByLabel('Address', { exact: true }).fill(OFFICE.line1);
  await page.getByLabel('Postal code').fill(OFFICE.postal_code);
  await page.getByLabel('City').fill(OFFICE.city);
  await page.getByLabel('Country').selectOption(OFFICE.country);
  await page.getByLabel('My default billing address').check();
  await page.getByRole('button', { name: 'Add address' }).click();
  const office = page.locator('.address-card').filter({ hasText: 'Office' });
  await office.getByText('Default billing').waitFor();
  await home.getByText('Default delivery').waitFor();
  assert.equal(await home.getByText('Default billing').count(), 0);
  await screenshot(page, 'account-addresses');

  const { status, body } = await book();
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.items.map((a) => [a.label, a.address.city, a.default_shipping, a.default_billing]),
    [['Home', 'Berlin', true, false], ['Office', 'Hamburg', false, true]]);
});

test('checkout offers the saved addresses, and the order keeps copies of them', async () => {
  const { page } = shopper;
  await addToCart(page, 'linen-tea-towel', null, 1);
  await page.goto('/#/checkout');
  await heading(page, 'Checkout');
  // The default delivery address is chosen and in the form; billing goes to the default billing one.
  assert.equal(await page.getByRole('radio', { name: /^Home:/ }).isChecked(), true);
  assert.equal(await page.getByLabel('City').inputValue(), 'Berlin');
  assert.match(await page.getByLabel('Billing address').locator('option:checked').textContent(), /^Office:/);
  await fillCheckout(page, { email: null, address: null });
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await pay(page, '4242424242424242');
  await heading(page, 'Thank you for your order!');
  const order = await call(server.base, 'GET', `/orders/${orderIdFromUrl(page)}`, { token: customer });
  assert.equal(order.status, 200, JSON.stringify(order.body));
  assert.equal(order.body.shipping_address.city, 'Berlin');
  assert.equal(order.body.billing_address.city, 'Hamburg');
  // The account page lists it among the latest orders.
  await page.getByRole('link', { name: /Account/ }).click();
  await heading(page, 'Your account');
  await page.getByRole('link', { name: `#${order.body.number}` }).waitFor();
});

test('a deleted default address is gone from the book and from the profile', async () => {
  const { page } = shopper;
  await page.getByRole('button', { name: /^Delete Office:/ }).click();
  await page.locator('.address-card').filter({ hasText: 'Office' }).waitFor({ state: 'detached' });
  const { body } = await book();
  assert.deepEqual(body.items.map((a) => a.label), ['Home']);
  assert.equal((await me()).body.default_billing_address_id, null);
  assert.deepEqual(page.scriptErrors, []);
});
