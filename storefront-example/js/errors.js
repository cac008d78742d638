// Every problem+json the API can send, said in plain words. The stable `code` picks the sentence;
// an unknown code falls back to the API's `detail`; a raw status code is never shown.

import { h } from './dom.js';

const SENTENCES = {
  network_error: "We couldn't reach the store. Check your connection and try again.",
  service_unavailable: 'The store is very busy right now. Please try again in a moment.',
  internal_error: 'Something went wrong on our side. Please try again in a moment.',
  unauthorized: 'Your sign-in has expired. Please sign in again.',
  forbidden: "You don't have access to that.",
  not_found: "We couldn't find that. It may have been removed.",
  out_of_stock: 'Some items sold out while you were checking out.',
  items_unavailable: 'Some items in your cart can no longer be bought. Please remove them from your cart.',
  invalid_discount: "That discount code isn't valid. It may be misspelt, expired or used up.",
  shipping_method_unavailable: "That delivery option isn't available for this address. Please choose another one.",
  country_not_shipped: "Sorry, we don't deliver to that country.",
  invalid_address: 'Please check the delivery address.',
  validation_failed: 'Please check the highlighted fields.',
  invalid_body: 'Please check the highlighted fields.',
  cart_empty: 'Your cart is empty.',
  cart_already_checked_out: 'This cart has already been checked out.',
  cart_changed: 'Your cart changed while we were saving it. Please try again.',
  too_many_lines: 'Your cart can hold at most 50 different items.',
  quantity_limit: 'The store sells a limited number of each item per order. Please lower the quantity.',
  too_many_attempts: 'Too many discount codes were tried on this cart. Please wait a few minutes before trying another.',
  unknown_sku: 'That item is no longer sold.',
  unsupported_currency: "The store doesn't sell in that currency.",
  nothing_to_pay: 'There is nothing to pay for this order.',
  payment_provider_unavailable: "We couldn't reach the payment provider. Nothing was charged or reserved — please try again.",
  payment_not_confirmable: 'This payment is already complete or was cancelled.',
  unknown_test_card: 'That is not a test card this local store knows. Use 4242 4242 4242 4242 (pays) or 4000 0000 0000 0002 (declined).',
  request_in_progress: 'Your order is still being placed. Please wait a moment.',
  idempotency_key_reused: 'That request was already sent with different details. Please try again.',
  invalid_transition: "That can't be done to this order any more.",
  order_changed: 'The order changed while we were saving it. Please try again.',
};

/** Field names of the API → the labels the shopper saw. */
const FIELD_LABELS = {
  email: 'Email',
  name: 'Full name',
  line1: 'Address',
  line2: 'Address line 2',
  city: 'City',
  postal_code: 'Postal code',
  region: 'State or region',
  country: 'Country',
  phone: 'Phone',
  code: 'Discount code',
  quantity: 'Quantity',
  sub: 'Customer id',
};

/** 'shipping_address.postal_code' → 'postal_code'. */
export function fieldName(field) {
  return String(field ?? '').split('.').pop().replace(/\[\d+\]$/, '');
}

function sentenceFor(error) {
  if (SENTENCES[error.code]) return SENTENCES[error.code];
  if (error.status >= 500) return SENTENCES.internal_error;
  if (error.detail) return capitalise(error.detail);
  return 'Something went wrong. Please try again.';
}

function capitalise(text) {
  const t = String(text).replace(/`/g, '');
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** How many are left, from "only 3 available". */
export function leftFrom(message) {
  const match = /only (\d+) available/i.exec(message ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * The shopper-facing explanation of an error:
 * {message, items: [sentences], fields: {formFieldName: message}}.
 * `lines` (cart lines) let SKU-named errors say which product they mean.
 */
export function explain(error, { lines = [] } = {}) {
  if (!error || typeof error !== 'object' || !('code' in error)) {
    return { message: 'Something went wrong. Please try again.', items: [], fields: {} };
  }
  const message = sentenceFor(error);
  const items = [];
  const fields = {};
  if (error.code === 'out_of_stock' || error.code === 'items_unavailable') {
    for (const e of error.errors) {
      const line = lines.find((l) => l.sku === e.field);
      const title = line ? `${line.title ?? line.sku}${line.variant_title ? ` (${line.variant_title})` : ''}` : e.field;
      const left = leftFrom(e.message);
      if (left === 0) items.push(`${title} is sold out.`);
      else if (left != null) items.push(`${title}: only ${left} left${line ? ` — you asked for ${line.quantity}` : ''}.`);
      else items.push(`${title} can no longer be bought.`);
    }
  } else {
    for (const e of error.errors) {
      const name = fieldName(e.field);
      const msg = capitalise(e.message ?? 'is not valid');
      fields[name] = msg;
      items.push(`${FIELD_LABELS[name] ?? name}: ${msg}`);
    }
  }
  return { message, items, fields };
}

/**
 * The error box shown above a form or a page section. role=alert makes screen readers read it as
 * soon as it appears; tabindex lets the view move focus to it.
 */
export function errorBox(error, options = {}) {
  const { message, items } = explain(error, options);
  return h('div', { class: 'alert alert--error', role: 'alert', tabindex: '-1', 'data-code': error?.code ?? 'unknown' },
    h('p', { class: 'alert__title' }, message),
    items.length ? h('ul', {}, items.map((i) => h('li', {}, i))) : null,
    options.extra ?? null);
}
