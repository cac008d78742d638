// The shopper's cart: created on the first "Add to cart", kept in localStorage (id + guest token),
// claimed into the customer's cart on sign-in.

import * as http from './api.js';
import { ApiError } from './api.js';
import * as store from './state.js';

const units = (cart) => (cart?.items ?? []).reduce((n, line) => n + line.quantity, 0);

/** Remembers a cart the API returned (keeping the guest token unless it is given). */
function remember(cart, token) {
  const current = store.get().cart;
  const keep = current?.id === cart.id ? current.token : null;
  store.update({
    cart: { id: cart.id, token: token === undefined ? keep : token, currency: cart.currency },
    cartCount: units(cart),
  });
  return cart;
}

export function forget() {
  store.update({ cart: null, cartCount: 0 });
}

function tokenOf() {
  return store.get().cart?.token ?? undefined;
}

/** The current cart, or null when there is none (or it was checked out, merged or expired). */
export async function load() {
  const saved = store.get().cart;
  if (!saved) {
    if (!store.get().session) return null;
    return mine();
  }
  try {
    const cart = await http.getCart(saved.id, saved.token ?? undefined);
    if (cart.status !== 'active') {
      forget();
      return null;
    }
    return remember(cart);
  } catch (e) {
    // 404: gone or not ours; 401: nothing left here to open it with (no token, signed out).
    if (e instanceof ApiError && (e.status === 404 || e.status === 401)) {
      forget();
      return store.get().session ? mine() : null;
    }
    throw e;
  }
}

/** The signed-in customer's active cart (GET /me/cart), or null. */
async function mine() {
  try {
    const cart = await http.myCart();
    if (cart.status !== 'active') return null;
    return remember(cart, null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

async function create(currency, items) {
  const cart = await http.createCart({ currency, items });
  // A customer's cart is opened with the JWT; the guest token is only kept for guests.
  return remember(cart, store.get().session ? null : cart.token ?? null);
}

/** Adds `quantity` of `sku`; creates the cart in `currency` when there is none. */
export async function add(sku, quantity, currency) {
  const saved = store.get().cart;
  if (!saved) return create(currency, [{ sku, quantity }]);
  try {
    const cart = await http.addItem(saved.id, { sku, quantity }, tokenOf());
    return remember(cart);
  } catch (e) {
    // The saved cart is gone (expired, checked out in another tab, claimed): start a new one.
    if (e instanceof ApiError && (e.status === 404 || e.code === 'cart_already_checked_out')) {
      forget();
      return create(currency, [{ sku, quantity }]);
    }
    throw e;
  }
}

function cartId() {
  return store.get().cart.id;
}

export async function setQuantity(sku, quantity) {
  return remember(await http.changeItem(cartId(), sku, { quantity }, tokenOf()));
}

export async function remove(sku) {
  return remember(await http.removeItem(cartId(), sku, tokenOf()));
}

export async function applyDiscount(code) {
  return remember(await http.putDiscount(cartId(), { code }, tokenOf()));
}

export async function removeDiscount() {
  return remember(await http.deleteDiscount(cartId(), tokenOf()));
}

export async function setShipping(address, method) {
  return remember(await http.putShipping(cartId(), method ? { address, method } : { address }, tokenOf()));
}

/**
 * After sign-in: the guest cart of this browser becomes (or merges into) the customer's cart.
 * Returns the customer's cart, or null when there is none.
 */
export async function claim() {
  const saved = store.get().cart;
  if (saved?.token) {
    try {
      const cart = await http.claimCart(saved.id, saved.token);
      return remember(cart, null);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }
  forget();
  return mine();
}

export { units };
