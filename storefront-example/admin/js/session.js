// The merchant's sign-in, one of two ways, chosen by the storefront's config.js:
//
// - the store's OpenID provider (OIDC_ISSUER set): the same Authorization Code flow with PKCE as
//   the storefront's (../../js/oidc.js), back to this page; only someone in the `admin` group of
//   the claim OIDC_ADMIN_CLAIM names (as the functions read it, AUTH_ADMIN_CLAIM) gets in;
// - otherwise an admin JWT kept in this browser (its own key, apart from the storefront's shopper):
//   locally, `POST /dev/token` (nanoshop serve only) mints one with a click; elsewhere the merchant
//   pastes one.

import { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_SCOPE, OIDC_ADMIN_CLAIM } from '../../config.js';
import { api } from '../../js/api.js';
import { openIdClient, isAdmin } from '../../js/oidc.js';

const KEY = 'nanoshop.console.v1';

/** The provider's client when one is configured, else null (a kept token). */
const provider = OIDC_ISSUER
  ? openIdClient({
    issuer: OIDC_ISSUER,
    clientId: OIDC_CLIENT_ID,
    scope: OIDC_SCOPE,
    redirectUri: `${window.location.origin}${window.location.pathname}`,
    storageKey: 'nanoshop.console.oidc.v1',
  })
  : null;

/** Whether the merchant signs in through the store's OpenID provider. */
export const usesProvider = Boolean(provider);

function read() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return value && typeof value.token === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** @param {Record<string, unknown>} claims */
const nameIn = (claims) => String(claims.email ?? claims.sub ?? 'admin');

/** @returns {{token: string, sub: string} | null} */
export function current() {
  if (!provider) return read();
  const session = provider.session();
  return session ? { token: session.idToken, sub: nameIn(session.claims) } : null;
}

/**
 * The token for the next call: with a provider, renewed first when it is about to expire; `''`
 * when there is none (the API then answers 401 and the console asks to sign in).
 * @returns {Promise<string>}
 */
export async function bearer() {
  if (!provider) return read()?.token ?? '';
  return (await provider.freshIdToken()) ?? '';
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

/** Forgets this console's tokens (the API refused them), leaving the provider's session be. */
export function forget() {
  localStorage.removeItem(KEY);
  provider?.forget();
}

/** Forgets the token; with a provider, ends its session too (the browser goes there and back). */
export async function signOut() {
  localStorage.removeItem(KEY);
  if (provider) await provider.signOut();
}

/** The local one-click admin token; rejects with the API's 404 where `/dev/token` is not served. */
export async function localSignIn(sub = 'merchant') {
  const { token } = await api('POST', '/dev/token', { body: { sub, admin: true }, auth: false });
  signIn(token, sub);
}

/**
 * Goes to the provider's sign-in page; back at `returnTo` (a hash of this page) by `resume()`.
 * `asSomeoneElse` has the provider ask who signs in even while its session lasts.
 */
export function signInWithProvider(returnTo = '#/orders', { asSomeoneElse = false } = {}) {
  if (!provider) throw new Error('no OpenID provider is configured (config.js)');
  return provider.signIn(returnTo, asSomeoneElse ? { prompt: 'login' } : {});
}

/** Someone signed in at the provider who is not in its admin group. */
export class NotAnAdmin extends Error {
  /** @param {string} who */
  constructor(who) {
    super(`${who} is not in the store's admin group`);
    this.name = 'NotAnAdmin';
    this.who = who;
  }
}

/**
 * On page load: completes a sign-in the provider sent the merchant back from, and cleans the code
 * from the address bar. Resolves the hash to show (null when this load is no such return); rejects
 * with `NotAnAdmin` for someone outside the admin group (whose tokens are not kept), or with why
 * the provider refused.
 * @returns {Promise<string | null>}
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
  if (!completed) return null;
  const { claims } = completed.session;
  if (!isAdmin(claims, OIDC_ADMIN_CLAIM)) {
    provider.forget();
    throw new NotAnAdmin(nameIn(claims));
  }
  window.history.replaceState(null, '', `${window.location.pathname}${completed.returnTo}`);
  return completed.returnTo;
}
