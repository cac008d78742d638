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

/** The `sub` claim of a JWT, for the header (not verified here: the API checks the token). */
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const sub = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))).sub;
    return typeof sub === 'string' && sub ? sub : null;
  } catch {
    return null;
  }
}

/** @param {string} token @param {string} [sub] who it is, when not the token's own `sub` */
export function signIn(token, sub) {
  localStorage.setItem(KEY, JSON.stringify({ token, sub: sub ?? subjectOf(token) ?? 'admin' }));
}

export function signOut() {
  localStorage.removeItem(KEY);
}

/** The local one-click admin token; rejects with the API's 404 where `/dev/token` is not served. */
export async function localSignIn(sub = 'merchant') {
  const { token } = await api('POST', '/dev/token', { body: { sub, admin: true }, auth: false });
  signIn(token, sub);
}
