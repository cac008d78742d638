// The merchant's sign-in: an admin JWT kept in this browser (its own key, apart from the
// storefront's shopper). Locally, `POST /dev/token` (nanoshop serve only) mints one with a click;
// a deployed store has no such route, so the merchant pastes a token from the store's identity
// provider until the console signs in through it (OpenID, not built yet).

import { api } from '../../js/api.js';

const KEY = 'nanoshop.console.v1';

function read() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return value && typeof value.token === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** @returns {{token: string, sub: string} | null} */
export function current() {
  return read();
}

export function signIn(token, sub = 'merchant') {
  localStorage.setItem(KEY, JSON.stringify({ token, sub }));
}

export function signOut() {
  localStorage.removeItem(KEY);
}

/** The local one-click admin token; rejects with the API's 404 where `/dev/token` is not served. */
export async function localSignIn(sub = 'merchant') {
  const { token } = await api('POST', '/dev/token', { body: { sub, admin: true }, auth: false });
  signIn(token, sub);
}
