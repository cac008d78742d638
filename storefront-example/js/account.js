// The signed-in customer's profile and address book (`/me`, `/me/addresses`), for the account page
// and checkout. Every call carries the customer's token (js/api.js adds it). A store whose API has
// no such routes (404) has no profiles: `available()` says so, and the pages leave them out.

import { api, apiWithEtag, ApiError } from './api.js';

const at = encodeURIComponent;

/**
 * @typedef {object} Profile
 * @property {string} sub
 * @property {string | null} name
 * @property {string | null} email
 * @property {string | null} phone
 * @property {boolean} marketing_consent
 * @property {string | null} default_shipping_address_id
 * @property {string | null} default_billing_address_id
 */
/**
 * @typedef {object} SavedAddress
 * @property {string} id
 * @property {string | null} label
 * @property {Record<string, string | null>} address as at checkout (name, line1, …, country, phone)
 * @property {boolean} default_shipping
 * @property {boolean} default_billing
 */

/** Whether `GET /me` failed because this store keeps no profiles (a customer's never 404s). */
export function isUnavailable(error) {
  return error instanceof ApiError && error.status === 404;
}

/** The profile and the `ETag` to change it with: `{data: Profile, etag}`. */
export const profile = () => apiWithEtag('GET', '/me');

/**
 * Changes the fields of `patch` (a field sent as `null` is cleared); with `etag`, only if nobody
 * changed the profile meanwhile (412 otherwise).
 * @param {Partial<Profile>} patch @param {string | null} etag @returns {Promise<{data: Profile, etag: string | null}>}
 */
export const changeProfile = (patch, etag) => apiWithEtag('PATCH', '/me', { body: patch, ifMatch: etag ?? undefined });

/** The address book, oldest first. @returns {Promise<SavedAddress[]>} */
export async function addresses() {
  const { items } = await api('GET', '/me/addresses');
  return items;
}

/**
 * The address book for checkout: empty when there is none to offer (a guest, a store without
 * address books), never an error that would stop the checkout.
 * @returns {Promise<SavedAddress[]>}
 */
export async function addressesForCheckout() {
  try {
    return await addresses();
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) return [];
    throw e;
  }
}

/**
 * @param {{label?: string | null, address: Record<string, string | null>, default_shipping?: boolean, default_billing?: boolean}} body
 * @returns {Promise<SavedAddress>}
 */
export const addAddress = (body) => api('POST', '/me/addresses', { body });

/**
 * @param {string} id @param {{label?: string | null, address?: Record<string, string | null>, default_shipping?: boolean, default_billing?: boolean}} patch
 * @returns {Promise<SavedAddress>}
 */
export const changeAddress = (id, patch) => api('PATCH', `/me/addresses/${at(id)}`, { body: patch });

/** @param {string} id */
export const removeAddress = (id) => api('DELETE', `/me/addresses/${at(id)}`);

/** One line for a saved address: its label, else the name and street. @param {SavedAddress} saved */
export function describe(saved) {
  const a = saved.address;
  const where = [a.line1, a.postal_code && a.city ? `${a.postal_code} ${a.city}` : a.city, a.country].filter(Boolean).join(', ');
  return saved.label ? `${saved.label}: ${a.name}, ${where}` : `${a.name}, ${where}`;
}
