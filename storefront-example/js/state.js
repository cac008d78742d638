// What the storefront keeps in the browser (localStorage), so a reload keeps the cart, the
// signed-in customer and the guest's orders. One JSON document under one key.
//
//   cart:     {id, token, currency} — token is the guest capability (X-Cart-Token); null once the
//             cart belongs to a signed-in customer (then the JWT opens it)
//   session:  {token, sub, email, provider} — the customer's JWT; a session from an OpenID
//             provider (`provider: 'oidc'`) is kept in this tab's sessionStorage instead, beside
//             its refresh token (js/oidc.js says why)
//   currency: the shopper's chosen display currency
//   orders:   [{id, token, number, email, total, created_at, expires_at, customer_id}] — orders
//             placed in this browser, with their X-Order-Token (newest first, at most 20); a
//             customer's are forgotten when they sign out
//   payments: {order_id: {payment_intent_id, client_secret, publishable_key}} — for orders still to pay
//   draft:    {email, address} — what the shopper typed at checkout, to prefill next time
//   cartCount: units in the cart, for the header badge

const KEY = 'nanoshop.storefront.v1';
const TAB_SESSION_KEY = 'nanoshop.storefront.session.v1';
const listeners = new Set();

function parsed(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key) ?? 'null');
    return value && typeof value === 'object' ? value : fallback;
  } catch {
    return fallback;
  }
}

function read() {
  const shared = parsed(localStorage, KEY, {});
  const tab = parsed(sessionStorage, TAB_SESSION_KEY, null);
  return typeof tab?.token === 'string' ? { ...shared, session: tab } : shared;
}

let state = read();

function write() {
  const { session, ...shared } = state;
  const perTab = session?.provider === 'oidc';
  try {
    localStorage.setItem(KEY, JSON.stringify(perTab ? shared : state));
    if (perTab) sessionStorage.setItem(TAB_SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(TAB_SESSION_KEY);
  } catch {
    // Private mode or a full quota: the store still works for this page view.
  }
  for (const listener of listeners) listener(state);
}

/** Another tab changed the storage: follow it (this tab's own session stays). */
window.addEventListener('storage', (event) => {
  if (event.key !== KEY) return;
  state = read();
  for (const listener of listeners) listener(state);
});

export function get() {
  return state;
}

export function update(patch) {
  state = { ...state, ...patch };
  write();
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function rememberOrder(order, token) {
  const entry = {
    id: order.id, token, number: order.number, email: order.email,
    total: order.totals?.total, created_at: order.created_at, expires_at: order.expires_at,
    customer_id: order.customer_id ?? null,
  };
  const orders = [entry, ...(state.orders ?? []).filter((o) => o.id !== order.id)].slice(0, 20);
  update({ orders });
}

export function orderToken(orderId) {
  return (state.orders ?? []).find((o) => o.id === orderId)?.token ?? null;
}

export function rememberPayment(orderId, payment) {
  update({ payments: { ...(state.payments ?? {}), [orderId]: payment } });
}

export function forgetPayment(orderId) {
  const payments = { ...(state.payments ?? {}) };
  delete payments[orderId];
  update({ payments });
}
