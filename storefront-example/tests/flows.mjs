// What a shopper does, step by step, as the tests drive it: by labels, roles and visible text.

import assert from 'node:assert/strict';

export async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text }).waitFor();
}

/** Opens a product, picks `option` (e.g. 'M'; null for single-variant products), sets the quantity, adds it. */
export async function addToCart(page, slug, option, quantity = 1) {
  await page.goto(`/#/product/${slug}`);
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
  if (option) await page.getByRole('radio', { name: option, exact: true }).check();
  await page.getByLabel('Quantity', { exact: true }).fill(String(quantity));
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.locator('main').getByRole('status').filter({ hasText: 'to your cart' }).waitFor();
}

export const ADDRESS = { name: 'Ada Lovelace', line1: 'Unter den Linden 1', postal_code: '10117', city: 'Berlin', country: 'DE' };

export async function fillAddress(page, address = ADDRESS) {
  await page.getByLabel('Full name').fill(address.name);
  await page.getByLabel('Address', { exact: true }).fill(address.line1);
  await page.getByLabel('Postal code').fill(address.postal_code);
  await page.getByLabel('City').fill(address.city);
  await page.getByLabel('Country').selectOption(address.country);
}

/** On the checkout page: e-mail, address (null: keep the prefilled one), delivery option. */
export async function fillCheckout(page, { email = 'ada@example.com', address = ADDRESS, method = /Standard/ } = {}) {
  await heading(page, 'Checkout');
  if (email !== null) await page.getByLabel('Email').fill(email);
  if (address !== null) await fillAddress(page, address);
  const option = page.getByRole('radio', { name: method });
  await option.waitFor();
  await option.check();
  // The totals follow the chosen option (the cart is re-priced with the address).
  await page.waitForFunction(() => !document.querySelector('.totals')?.textContent.includes('At checkout'));
}

/** On the payment page: types the card and pays. */
export async function pay(page, card) {
  await heading(page, 'Payment');
  await page.getByLabel('Card number').fill(card);
  await page.getByRole('button', { name: /^Pay/ }).click();
}

export function orderIdFromUrl(page) {
  const match = /#\/(?:order|pay)\/(ord_[^?/]+)/.exec(page.url());
  assert.ok(match, `no order id in ${page.url()}`);
  return decodeURIComponent(match[1]);
}

/** Units shown in the header's cart badge. */
export async function cartCount(page) {
  const text = (await page.locator('#cart-count').textContent()) ?? '';
  return Number(text || '0');
}

/** Waits until the focused element is the page's h1 (focus moves to new content on route change). */
export async function focusIsOnHeading(page, text) {
  await page.waitForFunction((t) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent.includes(t), text);
}
