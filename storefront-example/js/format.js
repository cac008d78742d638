// Money, dates and statuses in words.

// Minor-unit exponents where Stripe (and so nanoshop) differs from ISO 4217; every other currency
// uses the exponent the browser's Intl data knows.
const EXPONENT_OVERRIDES = { ISK: 2, UGX: 2, MGA: 0 };
const formatters = new Map();

function formatter(currency) {
  if (!formatters.has(currency)) {
    formatters.set(currency, new Intl.NumberFormat(undefined, { style: 'currency', currency }));
  }
  return formatters.get(currency);
}

/** Digits after the decimal point of `currency`'s minor unit (2 for EUR, 0 for JPY). */
export function exponent(currency) {
  return EXPONENT_OVERRIDES[currency] ?? formatter(currency).resolvedOptions().maximumFractionDigits;
}

/** {amount: 4900, currency: 'EUR'} → '€49.00'. Integer minor units in, text out; never sums floats. */
export function money(m) {
  if (!m || typeof m.amount !== 'number') return '—';
  try {
    return formatter(m.currency).format(m.amount / 10 ** exponent(m.currency));
  } catch {
    return `${m.amount} ${m.currency} (minor units)`;
  }
}

/** The negative of an amount, for discounts: '−€9.80'. */
export function minus(m) {
  return m && m.amount ? `−${money(m)}` : money(m);
}

export function priceIn(prices, currency) {
  return (prices ?? []).find((p) => p.currency === currency) ?? null;
}

export function date(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(iso));
}

export function dateTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function time(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(new Date(iso));
}

let regions;
export function country(code) {
  try {
    regions ??= new Intl.DisplayNames(undefined, { type: 'region' });
    return regions.of(code) ?? code;
  } catch {
    return code;
  }
}

export function currencyName(code) {
  try {
    return new Intl.DisplayNames(undefined, { type: 'currency' }).of(code) ?? code;
  } catch {
    return code;
  }
}

const ORDER_STATUS = {
  pending_payment: 'Awaiting payment',
  paid: 'Paid',
  fulfilled: 'Shipped',
  cancelled: 'Cancelled',
  expired: 'Expired',
};
const ORDER_STATUS_SENTENCE = {
  pending_payment: 'We are waiting for your payment.',
  paid: 'Paid. We are preparing your order.',
  fulfilled: 'Your order is on its way.',
  cancelled: 'This order was cancelled. Anything paid is refunded.',
  expired: 'This order was not paid in time, so its items were released.',
};
const PAYMENT_STATUS = {
  pending: 'Not paid yet',
  processing: 'Payment processing',
  succeeded: 'Paid',
  failed: 'Payment failed',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
};
const FULFILMENT_STATUS = {
  unfulfilled: 'Not shipped yet',
  partial: 'Partly shipped',
  fulfilled: 'Shipped',
};

export const orderStatus = (s) => ORDER_STATUS[s] ?? s;
export const orderStatusSentence = (s) => ORDER_STATUS_SENTENCE[s] ?? '';
export const paymentStatus = (s) => PAYMENT_STATUS[s] ?? s;
export const fulfilmentStatus = (s) => FULFILMENT_STATUS[s] ?? s;

/** "Linen shirt — M" from a cart line or order line. */
export function lineTitle(line) {
  if (line.variant_title) return `${line.title ?? line.sku} — ${line.variant_title}`;
  return line.title ?? line.sku;
}
