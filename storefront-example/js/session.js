// Customer sign-in, one of two ways, chosen by config.js:
//
// - the store's OpenID provider (OIDC_ISSUER set): the Authorization Code flow with PKCE
//   (js/oidc.js); the provider sends the shopper back to this page, `resume()` exchanges the code
//   and keeps the ID token, renewed by the refresh token before it expires;
// - otherwise the local one-click sign-in of `nanoshop serve` (`POST /dev/token`), what `make dev`
//   uses.
//
// Either way, signing in claims this browser's guest cart (`signedIn`), and signing out forgets
// the customer's cart and orders here.

import { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_SCOPE } from '../config.js';
import { api, setCustomerTokenSource } from './api.js';
import * as cart from './cart.js';
import { openIdClient } from './oidc.js';
import * as store from './state.js';

/** The provider's client when one is configured, else null (the local sign-in). */
const provider = OIDC_ISSUER
  ? openIdClient({
    issuer: OIDC_ISSUER,
    clientId: OIDC_CLIENT_ID,
    scope: OIDC_SCOPE,
    // This page, without its hash: what the provider is told to send the shopper back to.
    redirectUri: `${window.location.origin}${window.location.pathname}`,
    storageKey: 'nanoshop.storefront.oidc.v1',
  })
  : null;

/** Whether sign-in goes through the store's OpenID provider (else the local one-click sign-in). */
export const usesProvider = Boolean(provider);

setCustomerTokenSource(async () => {
  const session = current();
  if (!session || session.provider !== 'oidc' || !provider) return session?.token ?? null;
  const token = await provider.freshIdToken();
  if (token && token !== session.token) store.update({ session: { ...session, token } });
  return token;
});

/** Local development sign-in: a customer id and an e-mail address give a JWT. */
export async function devSignIn(sub, email) {
  const { token } = await api('POST', '/dev/token', { body: { sub, email: email || null, admin: false }, auth: false });
  return signedIn(token, { sub, email });
}

/**
 * Goes to the provider's sign-in page; the shopper comes back to `returnTo` (a hash of this page)
 * through `resume()`.
 * @param {string} returnTo
 */
export function signInWithProvider(returnTo) {
  if (!provider) throw new Error('no OpenID provider is configured (config.js)');
  return provider.signIn(returnTo);
}

/**
 * On page load, before the first render: completes a sign-in the provider sent the shopper back
 * from (the code exchanged, the guest cart claimed, the address bar cleaned of the code), and
 * forgets what a customer left here when this tab has no session (the browser was closed: an
 * OpenID session lives as long as its tab). Resolves `{returnTo, cart}` after a sign-in, else
 * null; rejects when the provider refused or the answer failed a check, the address cleaned all
 * the same.
 */
export async function resume() {
  if (!provider) return null;
  let completed;
  try {
    completed = await provider.completeSignIn();
  } finally {
    const here = new URL(window.location.href);
    if (here.searchParams.has('state')) window.history.replaceState(null, '', `${here.pathname}${here.hash}`);
  }
  if (!completed) {
    if (!current()) forgetCustomer();
    return null;
  }
  const { session, returnTo } = completed;
  const claims = session.claims;
  window.history.replaceState(null, '', `${window.location.pathname}${returnTo}`);
  const customerCart = await signedIn(session.idToken, {
    sub: String(claims.sub),
    email: typeof claims.email === 'string' ? claims.email : null,
    provider: 'oidc',
  });
  return { returnTo, cart: customerCart };
}

/** Keeps the token and claims this browser's guest cart. Returns the customer's cart (or null). */
export async function signedIn(token, { sub, email, provider: via = 'local' }) {
  store.update({ session: { token, sub, email: email || null, provider: via } });
  return cart.claim();
}

/** What is the customer's rather than this browser's: their cart and the orders they placed here. */
function forgetCustomer() {
  const s = store.get();
  // A cart without a guest token belongs to a customer, opened with their token.
  const keepCart = Boolean(s.cart?.token);
  const orders = (s.orders ?? []).filter((o) => !o.customer_id);
  const payments = Object.fromEntries(Object.entries(s.payments ?? {}).filter(([id]) => orders.some((o) => o.id === id)));
  store.update({ session: null, orders, payments, ...(keepCart ? {} : { cart: null, cartCount: 0 }) });
}

/**
 * Forgets the customer: the token, their cart and their orders (theirs, not this browser's). With
 * `everywhere`, the provider's session ends too (the browser goes there and comes back), so the
 * next sign-in asks for the password again; without it (an expired sign-in), only this page's.
 */
export async function signOut({ everywhere = false } = {}) {
  const s = store.get();
  forgetCustomer();
  store.update({ cart: null, cartCount: 0 });
  if (provider && s.session?.provider === 'oidc') {
    if (everywhere) await provider.signOut();
    else provider.forget();
  }
}

export function current() {
  return store.get().session ?? null;
}
