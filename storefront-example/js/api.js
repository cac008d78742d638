// Every call to the nanoshop REST API goes through `api()`: base URL from config.js, JSON in and
// out, the customer's JWT when signed in, the capability headers when asked for, and every
// non-2xx answer turned into an ApiError carrying the problem+json fields (code, detail, errors).

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

/** Called when a request with the customer's token answers 401: the token expired or is foreign. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey() {
  if (crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * api('POST', '/carts', {body, cartToken, orderToken, idempotencyKey, auth}) → parsed JSON (null for 204).
 * `auth: false` leaves the customer's token out (a guest-only call).
 */
export async function api(method, path, { body, cartToken, orderToken, idempotencyKey, auth = true, signal } = {}) {
  const headers = { accept: 'application/json' };
  const session = store.get().session;
  const withToken = auth && Boolean(session?.token);
  if (withToken) headers.authorization = `Bearer ${session.token}`;
  if (cartToken) headers['x-cart-token'] = cartToken;
  if (orderToken) headers['x-order-token'] = orderToken;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
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
  if (response.ok) return data;
  const problem = data && typeof data === 'object' ? data : {};
  const error = new ApiError({
    status: response.status,
    code: problem.code ?? `http_${response.status}`,
    detail: problem.detail ?? '',
    errors: problem.errors,
    title: problem.title ?? response.statusText,
    request_id: problem.request_id ?? response.headers.get('x-request-id'),
  });
  if (response.status === 401 && withToken) onUnauthorized(error);
  return Promise.reject(error);
}

/** Things that change rarely, read once per page load. */
const cache = new Map();
export function cached(path) {
  if (!cache.has(path)) {
    const pending = api('GET', path, { auth: false });
    pending.catch(() => cache.delete(path));
    cache.set(path, pending);
  }
  return cache.get(path);
}

export const settings = () => cached('/settings');
export const categories = () => cached('/categories');
