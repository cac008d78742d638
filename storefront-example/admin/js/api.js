// The admin operations of the nanoshop REST API the console calls, on the storefront's `api()`
// (base URL, JSON, problem+json → ApiError) with the merchant's token. Writes to versioned
// resources take the `ETag` they were read with (`If-Match`), so a change made meanwhile is a 412
// the console shows instead of silently overwriting.

import { api, apiWithEtag, newIdempotencyKey } from '../../js/api.js';
import * as session from './session.js';

const at = encodeURIComponent;

/** @typedef {import('../../js/api-types').paths} Paths */
/**
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {import('../../js/api.js').Answer<P, M>} Answer
 */
/**
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {import('../../js/api.js').RequestBody<P, M>} RequestBody
 */
/**
 * @template {keyof Paths} P
 * @template {keyof Paths[P]} M
 * @typedef {import('../../js/api.js').Query<P, M>} Query
 */

/** @param {string} method @param {string} path @param {{body?: unknown, ifMatch?: string | null, idempotencyKey?: string}} [options] */
async function admin(method, path, { body, ifMatch, idempotencyKey } = {}) {
  return api(method, path, { body, ifMatch: ifMatch ?? undefined, idempotencyKey, token: await session.bearer() });
}

/** @param {string} method @param {string} path @param {{body?: unknown, ifMatch?: string | null}} [options] */
async function versioned(method, path, { body, ifMatch } = {}) {
  return apiWithEtag(method, path, { body, ifMatch: ifMatch ?? undefined, token: await session.bearer() });
}

/** @param {Record<string, string | number | null | undefined>} query */
function search(query) {
  const present = Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '');
  const text = new URLSearchParams(present.map(([k, v]) => [k, String(v)])).toString();
  return text ? `?${text}` : '';
}

/** The `If-Match` value of a document's `version`. @param {{version?: number} | null | undefined} doc */
export const etagOf = (doc) => (doc && typeof doc.version === 'number' ? `"${doc.version}"` : null);

// Orders.
/** @param {Query<'/orders', 'get'>} query @returns {Promise<Answer<'/orders', 'get'>>} */
export const listOrders = (query) => admin('GET', `/orders${search(query)}`);
/** @param {string} id @returns {Promise<Answer<'/orders/{id}', 'get'>>} */
export const getOrder = (id) => admin('GET', `/orders/${at(id)}`);
/** @param {string} id @param {RequestBody<'/orders/{id}/fulfillments', 'post'>} body @returns {Promise<Answer<'/orders/{id}/fulfillments', 'post'>>} */
export const fulfil = (id, body) => admin('POST', `/orders/${at(id)}/fulfillments`, { body });
/**
 * @param {string} id @param {RequestBody<'/orders/{id}/refunds', 'post'>} body @param {string} [key] the same key retries the same refund
 * @returns {Promise<Answer<'/orders/{id}/refunds', 'post'>>}
 */
export const refund = (id, body, key = newIdempotencyKey()) => admin('POST', `/orders/${at(id)}/refunds`, { body, idempotencyKey: key });
/** @param {string} id @returns {Promise<Answer<'/orders/{id}/cancel', 'post'>>} */
export const cancelOrder = (id) => admin('POST', `/orders/${at(id)}/cancel`);

// Products.
/** @param {Query<'/products', 'get'>} query @returns {Promise<Answer<'/products', 'get'>>} */
export const listProducts = (query) => admin('GET', `/products${search(query)}`);
/** @param {string} idOrSlug @returns {Promise<Answer<'/products/{id_or_slug}', 'get'>>} */
export const getProduct = (idOrSlug) => admin('GET', `/products/${at(idOrSlug)}`);
/** @param {RequestBody<'/products', 'post'>} body @returns {Promise<Answer<'/products', 'post'>>} */
export const createProduct = (body) => admin('POST', '/products', { body });
/**
 * @param {string} id @param {Partial<RequestBody<'/products', 'post'>> & {images?: {id: string, alt: string | null}[]}} patch
 * @param {string | null} ifMatch @returns {Promise<Answer<'/products/{id_or_slug}', 'patch'>>}
 */
export const patchProduct = (id, patch, ifMatch) => admin('PATCH', `/products/${at(id)}`, { body: patch, ifMatch });
/** @param {string} id @param {string | null} ifMatch */
export const archiveProduct = (id, ifMatch) => admin('DELETE', `/products/${at(id)}`, { ifMatch });
/** @param {string} id @param {RequestBody<'/products/{id}/images', 'post'>} body @returns {Promise<Answer<'/products/{id}/images', 'post'>>} */
export const reserveImage = (id, body) => admin('POST', `/products/${at(id)}/images`, { body });

/**
 * Sends the file straight to storage through the presigned upload (no token: the signature is the
 * permission). @param {{url: string, method: string, headers: Record<string, string>}} upload @param {Blob} file
 */
export async function uploadImage(upload, file) {
  const headers = { ...upload.headers };
  // The browser sets Content-Length itself and refuses to be told.
  delete headers['content-length'];
  const response = await fetch(upload.url, { method: upload.method, headers, body: file });
  if (!response.ok) throw Object.assign(new Error(`the upload was refused (${response.status})`), { code: 'upload_failed', status: response.status, detail: `storage answered ${response.status}`, errors: [] });
}

// Inventory.
/** @param {string} sku @returns {Promise<{data: Answer<'/inventory/{sku}', 'get'>, etag: string | null}>} */
export const getInventory = (sku) => versioned('GET', `/inventory/${at(sku)}`);
/** @param {string} sku @param {number} onHand @param {string | null} ifMatch @returns {Promise<{data: Answer<'/inventory/{sku}', 'put'>, etag: string | null}>} */
export const putInventory = (sku, onHand, ifMatch) => versioned('PUT', `/inventory/${at(sku)}`, { body: { on_hand: onHand }, ifMatch });

// Discounts.
/** @param {Query<'/discounts', 'get'>} query @returns {Promise<Answer<'/discounts', 'get'>>} */
export const listDiscounts = (query) => admin('GET', `/discounts${search(query)}`);
/** @param {RequestBody<'/discounts', 'post'>} body @returns {Promise<Answer<'/discounts', 'post'>>} */
export const createDiscount = (body) => admin('POST', '/discounts', { body });
/** @param {string} id @param {Partial<RequestBody<'/discounts', 'post'>>} patch @param {string | null} ifMatch @returns {Promise<Answer<'/discounts/{id}', 'patch'>>} */
export const patchDiscount = (id, patch, ifMatch) => admin('PATCH', `/discounts/${at(id)}`, { body: patch, ifMatch });

// Settings and categories.
/** @returns {Promise<Answer<'/settings', 'get'>>} */
export const getSettings = () => admin('GET', '/settings');
/** @param {RequestBody<'/settings', 'put'>} body @param {string | null} ifMatch @returns {Promise<Answer<'/settings', 'put'>>} */
export const putSettings = (body, ifMatch) => admin('PUT', '/settings', { body, ifMatch });
/** @returns {Promise<Answer<'/categories', 'get'>>} */
export const getCategories = () => admin('GET', '/categories');
/** @param {string} slug @param {RequestBody<'/categories/{slug}', 'put'>} body @param {string | null} ifMatch @returns {Promise<Answer<'/categories/{slug}', 'put'>>} */
export const putCategory = (slug, body, ifMatch) => admin('PUT', `/categories/${at(slug)}`, { body, ifMatch });
