// Signing in through a real OpenID provider (node-oidc-provider, tests/oidc/provider.mjs) by the
// Authorization Code flow with PKCE, as on a deployed store: `nanoshop serve` trusts the provider
// (--auth-issuer: keys by discovery, as the deployed functions find them) and the storefront's
// config.js names it. One shopper's journey: a guest's cart, sign-in on the provider's login page,
// the cart claimed, checkout and payment, sign-out at the provider, sign-in again, the order in the
// history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, startProvider, launchBrowser, newShopper, call, repo, screenshot } from './helpers.mjs';
import { addToCart, fillCheckout, pay, heading, orderIdFromUrl, cartCount } from './flows.mjs';

const CLIENT_ID = 'nanoshop-storefront';

let provider;
let server;
let browser;
let shopper;

before(async () => {
  provider = await startProvider();
  [server, browser] = await Promise.all([
    startServer({ args: ['--auth-issuer', provider.issuer, '--auth-audience', CLIENT_ID, '--auth-admin-claim', 'groups'] }),
    launchBrowser(),
  ]);
  // The storefront and the console, each its own redirect URI, for sign-in and sign-out alike.
  const pages = [`${server.base}/`, `${server.base}/admin/`];
  await provider.addClients([{ client_id: CLIENT_ID, redirect_uris: pages, post_logout_redirect_uris: pages }]);
  shopper = await signingInThroughTheProvider(await newShopper(browser, server.base));
});

/** A browser whose config.js names the provider, as a deployer sets it (the repository's keeps the local sign-in). */
async function signingInThroughTheProvider(user) {
  const config = readFileSync(path.join(repo, 'storefront-example', 'config.js'), 'utf8')
    .replace("OIDC_ISSUER = ''", `OIDC_ISSUER = '${provider.issuer}'`)
    .replace("OIDC_CLIENT_ID = ''", `OIDC_CLIENT_ID = '${CLIENT_ID}'`)
    .replace("OIDC_ADMIN_CLAIM = 'cognito:groups'", "OIDC_ADMIN_CLAIM = 'groups'");
  assert.ok(config.includes(provider.issuer) && config.includes("'groups'"), 'config.js has the settings to replace');
  await user.context.route(`${server.base}/config.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript', body: config }));
  // Loopback only: the provider's pages import a web font, which is no part of this test.
  await user.context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  return user;
}

let placed;

after(async () => {
  await shopper?.context.close();
  await browser?.close();
  await server?.stop();
  await provider?.stop();
});

/** From the sign-in page, through the provider's own pages (its login form, its consent) and back. */
async function signInAtProvider(page, login) {
  await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.href.startsWith(server.base));
}

async function shopperSignsIn(page) {
  await page.getByRole('link', { name: 'Sign in' }).click();
  await heading(page, 'Sign in');
  await signInAtProvider(page, 'ada');
  // Signed in, or the sign-in page says why not (said here rather than waited out).
  await page.getByRole('link', { name: /Account/ }).or(page.getByRole('alert')).first().waitFor();
  const problem = page.locator('main').getByRole('alert');
  if (await problem.count()) assert.fail(`signing in failed: ${await problem.first().textContent()}`);
}

test('a guest signs in at the provider, checks out, signs out and finds the order again', async () => {
  const { page } = shopper;
  await addToCart(page, 'linen-tea-towel', null, 2);
  assert.equal(await cartCount(page), 2);

  await shopperSignsIn(page);
  // Back on the storefront, with the code gone from the address bar and the guest's cart claimed.
  assert.equal(new URL(page.url()).search, '');
  await page.getByRole('link', { name: 'Account (ada@shop.test)' }).waitFor();
  assert.equal(await cartCount(page), 2);
  // The storefront holds the provider's ID token (in this tab's sessionStorage), and the API
  // accepts it: the cart is the customer's now.
  const idToken = await page.evaluate(() => JSON.parse(sessionStorage.getItem('nanoshop.storefront.oidc.v1')).idToken);
  const mine = await call(server.base, 'GET', '/me/cart', { token: idToken });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.customer_id, 'ada');
  assert.deepEqual(mine.body.items.map((l) => [l.sku, l.quantity]), [['TOWEL', 2]]);

  await page.goto('/#/checkout');
  await heading(page, 'Checkout');
  // The e-mail comes from the ID token.
  assert.equal(await page.getByLabel('Email').inputValue(), 'ada@shop.test');
  await fillCheckout(page, { email: null });
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await pay(page, '4242424242424242');
  await heading(page, 'Thank you for your order!');
  const orderId = orderIdFromUrl(page);
  const order = await call(server.base, 'GET', `/orders/${orderId}`, { token: idToken });
  assert.equal(order.status, 200, JSON.stringify(order.body));
  assert.equal(order.body.customer_id, 'ada');

  // An ID token about to expire is renewed by the refresh token before the next call. The provider
  // signs deterministically (RS256) with second-resolution `iat`, so a token renewed within the
  // second the first was issued is byte for byte the same: wait for the next second, or the check
  // below cannot tell a renewal from none (it failed so once, on a fast run).
  const { iat } = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  const wait = (iat + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const KEY = 'nanoshop.storefront.oidc.v1';
  await page.evaluate((key) => {
    const session = JSON.parse(sessionStorage.getItem(key));
    sessionStorage.setItem(key, JSON.stringify({ ...session, expiresAt: Math.floor(Date.now() / 1000) + 30 }));
  }, KEY);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await page.getByRole('link', { name: `#${order.body.number}` }).waitFor();
  const renewed = await page.evaluate((key) => JSON.parse(sessionStorage.getItem(key)), KEY);
  assert.notEqual(renewed.idToken, idToken, 'the ID token was renewed');
  assert.ok(renewed.expiresAt > Date.now() / 1000 + 600, 'for as long as the provider gives');

  // Signing out ends the provider's session too: its page asks, then sends the shopper back.
  await page.getByRole('link', { name: /Account/ }).click();
  await heading(page, 'Your account');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL((url) => url.href.startsWith(server.base));
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('nanoshop.storefront.oidc.v1')), null);

  // Signing in again asks for the login again (the provider's session ended), and the order is there.
  await shopperSignsIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await heading(page, 'Your orders');
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `#${order.body.number}` }) });
  await row.getByText('Paid', { exact: true }).waitFor();
  await screenshot(page, 'oidc-order-history');
  assert.deepEqual(page.scriptErrors, []);
  placed = order.body;
});

test("the merchant signs in to the console through the same provider and sees the shopper's order", async () => {
  assert.ok(placed, 'the journey placed an order');
  const merchant = await signingInThroughTheProvider(await newShopper(browser, server.base));
  try {
    const { page } = merchant;
    await page.goto('/admin/');
    await heading(page, 'Sign in to the console');
    // Someone outside the admin group (the claim AUTH_ADMIN_CLAIM names) is turned away...
    await signInAtProvider(page, 'ada');
    await page.getByRole('alert').getByText("ada@shop.test, who is not in the store's admin group").waitFor();
    // ... and a member of it gets in: the console has the provider ask who signs in this time.
    await signInAtProvider(page, 'merchant');
    await page.getByRole('button', { name: 'Sign out (merchant@shop.test)' }).waitFor();
    await page.getByRole('link', { name: new RegExp(`#?${placed.number}`) }).first().waitFor();
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await merchant.context.close();
  }
});
