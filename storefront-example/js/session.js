// Customer sign-in. Locally, `POST /dev/token` (nanoshop serve only) mints the JWT; a deployed store
// signs customers in with its identity provider instead (e.g. Cognito's hosted UI) and calls
// `signedIn(jwt, {sub, email})` with the token it got — everything else stays the same.

import { api } from './api.js';
import * as cart from './cart.js';
import * as store from './state.js';

/** Local development sign-in: a customer id and an e-mail address give a JWT. */
export async function devSignIn(sub, email) {
  const { token } = await api('POST', '/dev/token', { body: { sub, email: email || null, admin: false }, auth: false });
  return signedIn(token, { sub, email });
}

/** Keeps the token and claims this browser's guest cart. Returns the customer's cart (or null). */
export async function signedIn(token, { sub, email }) {
  store.update({ session: { token, sub, email: email || null } });
  return cart.claim();
}

/** Forgets the customer: the token, their cart and their orders (theirs, not this browser's). */
export function signOut() {
  const s = store.get();
  // What the customer ordered is theirs too: the next person at this browser does not see it.
  const orders = (s.orders ?? []).filter((o) => !o.customer_id);
  const payments = Object.fromEntries(Object.entries(s.payments ?? {}).filter(([id]) => orders.some((o) => o.id === id)));
  store.update({ session: null, cart: null, cartCount: 0, orders, payments });
}

export function current() {
  return store.get().session ?? null;
}
