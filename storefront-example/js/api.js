// Every call to the nanoshop REST API goes through `api()`: base URL from config.js, JSON in and
// out, the customer's JWT when signed in, the capability headers when asked for, and every
// non-2xx answer turned into an ApiError carrying the problem+json fields (code, detail, errors).
//
// The operations below are typed from the API's own OpenAPI document: `api-types.d.ts` is what
// openapi-typescript makes of `/openapi.json` (`scripts/apitools.sh types` writes it; it is not
// committed, since it is derived). The types live in JSDoc comments only, so this stays plain
// JavaScript that browsers run as is; `tsc --checkJs` (in `make test`) holds the calls and the
// fields the storefront reads to the document.

import { API_BASE } from '../config.js';
import * as store from './state.js';

export class ApiError extends Error {
  constructor({ status = 0, code = 'unknown', detail = '', errors = [], title = '', request_id: requestId = null } = {}) {
    super(detail || title || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = Array.isArray(errors) ? errors : [];
    this.requestId = requestId;
  }
}

/**
 * Called when a request with the customer's token answers 401: the token expired or is foreign.
 * @type {(error: ApiError) => void}
 */
let onUnauthorized = () => {};
/** @param {(error: ApiError) => void} handler */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * Where the signed-in customer's token comes from: by default the one kept in the state; with an
 * OpenID provider, `session.js` renews it first when it is about to expire. `null` when signed out.
 * @type {() => Promise<string | null>}
 */
let customerToken = async () => store.get().session?.token ?? null;
/** @param {() => Promise<string | null>} source */
export function setCustomerTokenSource(source) {
  customerToken = source;
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey() {
  if (crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @typedef {import('./api-types').paths} Paths */
/**
 * The JSON body operation `M` of path `P` takes.
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {Paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never} RequestBody
 */
/**
 * The query parameters operation `M` of path `P` takes.
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {Paths[P][M] extends { parameters: { query?: infer Q } } ? Q : never} Query
 */
/**
 * The JSON a success of operation `M` of path `P` answers (its 200, 201 or 202 response).
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {Paths[P][M] extends { responses: infer R }
 *   ? (R[Extract<keyof R, 200 | 201 | 202>] extends { content: { 'application/json': infer J } } ? J : never)
 *   : never} Answer
 */

/**
 * @typedef {object} CallOptions
 * @property {unknown} [body] sent as JSON
 * @property {string} [cartToken] `X-Cart-Token`
 * @property {string} [orderToken] `X-Order-Token`
 * @property {string} [idempotencyKey] `Idempotency-Key`
 * @property {string} [ifMatch] `If-Match`: the `ETag` a write to a versioned resource expects
 * @property {string} [token] the JWT to send instead of the signed-in customer's (the console's admin token)
 * @property {boolean} [auth] false leaves the customer's token out (a guest-only call)
 * @property {AbortSignal} [signal]
 */

/**
 * api('POST', '/carts', {body, cartToken, orderToken, idempotencyKey, auth}) → parsed JSON (null for 204).
 * `auth: false` leaves the customer's token out (a guest-only call).
 * @param {string} method
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(method, path, options = {}) {
  return (await request(method, path, options)).data;
}

/**
 * Like `api()`, with the answer's `ETag` beside its JSON, for a later `If-Match` (the merchant
 * console's writes to versioned resources).
 * @param {string} method
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<{data: any, etag: string | null}>}
 */
export function apiWithEtag(method, path, options = {}) {
  return request(method, path, options);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {CallOptions} options
 * @returns {Promise<{data: any, etag: string | null}>}
 */
async function request(method, path, { body, cartToken, orderToken, idempotencyKey, ifMatch, token, auth = true, signal }) {
  const headers = { accept: 'application/json' };
  const signedIn = auth && !token && Boolean(store.get().session);
  const bearer = token ?? (signedIn ? await customerToken() : null);
  if (signedIn && !bearer) {
    // Signed in, but the sign-in expired and could not be renewed: not a guest's call.
    const error = new ApiError({ status: 401, code: 'unauthorized', detail: 'the sign-in expired' });
    onUnauthorized(error);
    throw error;
  }
  const withToken = auth && Boolean(bearer);
  if (withToken) headers.authorization = `Bearer ${bearer}`;
  if (cartToken) headers['x-cart-token'] = cartToken;
  if (orderToken) headers['x-order-token'] = orderToken;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  if (ifMatch) headers['if-match'] = ifMatch;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal,
    });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError({ status: 0, code: 'network_error', detail: String(e?.message ?? e) });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) return { data, etag: response.headers.get('etag') };
  const problem = data && typeof data === 'object' ? data : {};
  const error = new ApiError({
    status: response.status,
    code: problem.code ?? `http_${response.status}`,
    detail: problem.detail ?? '',
    errors: problem.errors,
    title: problem.title ?? response.statusText,
    request_id: problem.request_id ?? response.headers.get('x-request-id'),
  });
  // The customer's session expired; a token passed in (the console's) is its caller's to handle.
  if (response.status === 401 && withToken && !token) onUnauthorized(error);
  return Promise.reject(error);
}

/** Things that change rarely, read once per page load. */
const cache = new Map();
/** @param {string} path */
export function cached(path) {
  if (!cache.has(path)) {
    const pending = api('GET', path, { auth: false });
    pending.catch(() => cache.delete(path));
    cache.set(path, pending);
  }
  return cache.get(path);
}

const at = encodeURIComponent;

/** @returns {Promise<Answer<'/settings', 'get'>>} */
export const settings = () => cached('/settings');
/** @returns {Promise<Answer<'/categories', 'get'>>} */
export const categories = () => cached('/categories');

// The operations of the API the storefront calls, typed from the document.

/**
 * The query string of `query`, leaving out what is empty.
 * @param {Record<string, string | number | boolean | null | undefined>} query
 */
function search(query) {
  const present = Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return new URLSearchParams(present.map(([k, v]) => [k, String(v)])).toString();
}

/** @param {Query<'/products', 'get'>} query @returns {Promise<Answer<'/products', 'get'>>} */
export const listProducts = (query) => api('GET', `/products?${search(query)}`, { auth: false });
/** @param {string} slug @returns {Promise<Answer<'/products/{id_or_slug}', 'get'>>} */
export const getProduct = (slug) => api('GET', `/products/${at(slug)}`, { auth: false });

/** @param {RequestBody<'/carts', 'post'>} body @returns {Promise<Answer<'/carts', 'post'>>} */
export const createCart = (body) => api('POST', '/carts', { body });
/** @param {string} id @param {string} [cartToken] @returns {Promise<Answer<'/carts/{id}', 'get'>>} */
export const getCart = (id, cartToken) => api('GET', `/carts/${at(id)}`, { cartToken });
/** @returns {Promise<Answer<'/me/cart', 'get'>>} */
export const myCart = () => api('GET', '/me/cart');
/**
 * @param {string} id @param {RequestBody<'/carts/{id}/items', 'post'>} body @param {string} [cartToken]
 * @returns {Promise<Answer<'/carts/{id}/items', 'post'>>}
 */
export const addItem = (id, body, cartToken) => api('POST', `/carts/${at(id)}/items`, { body, cartToken });
/**
 * @param {string} id @param {string} sku @param {RequestBody<'/carts/{id}/items/{sku}', 'patch'>} body
 * @param {string} [cartToken] @returns {Promise<Answer<'/carts/{id}/items/{sku}', 'patch'>>}
 */
export const changeItem = (id, sku, body, cartToken) =>
  api('PATCH', `/carts/${at(id)}/items/${at(sku)}`, { body, cartToken });
/**
 * @param {string} id @param {string} sku @param {string} [cartToken]
 * @returns {Promise<Answer<'/carts/{id}/items/{sku}', 'delete'>>}
 */
export const removeItem = (id, sku, cartToken) => api('DELETE', `/carts/${at(id)}/items/${at(sku)}`, { cartToken });
/**
 * @param {string} id @param {RequestBody<'/carts/{id}/discount', 'put'>} body @param {string} [cartToken]
 * @returns {Promise<Answer<'/carts/{id}/discount', 'put'>>}
 */
export const putDiscount = (id, body, cartToken) => api('PUT', `/carts/${at(id)}/discount`, { body, cartToken });
/** @param {string} id @param {string} [cartToken] @returns {Promise<Answer<'/carts/{id}/discount', 'delete'>>} */
export const deleteDiscount = (id, cartToken) => api('DELETE', `/carts/${at(id)}/discount`, { cartToken });
/**
 * @param {string} id @param {RequestBody<'/carts/{id}/shipping', 'put'>} body @param {string} [cartToken]
 * @returns {Promise<Answer<'/carts/{id}/shipping', 'put'>>}
 */
export const putShipping = (id, body, cartToken) => api('PUT', `/carts/${at(id)}/shipping`, { body, cartToken });
/** @param {string} id @param {string} cartToken @returns {Promise<Answer<'/carts/{id}/claim', 'post'>>} */
export const claimCart = (id, cartToken) => api('POST', `/carts/${at(id)}/claim`, { cartToken });

/**
 * @param {RequestBody<'/checkout', 'post'>} body @param {string} idempotencyKey @param {string} [cartToken]
 * @returns {Promise<Answer<'/checkout', 'post'>>}
 */
export const postCheckout = (body, idempotencyKey, cartToken) => api('POST', '/checkout', { body, cartToken, idempotencyKey });
/** @param {Query<'/orders', 'get'>} query @returns {Promise<Answer<'/orders', 'get'>>} */
export const listOrders = (query) => api('GET', `/orders?${search(query)}`);
/** @param {string} id @param {string} [orderToken] @returns {Promise<Answer<'/orders/{id}', 'get'>>} */
export const getOrder = (id, orderToken) => api('GET', `/orders/${at(id)}`, { orderToken });
