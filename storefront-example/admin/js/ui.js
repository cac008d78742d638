// What every console screen shares: problem+json shown in words with each field error beside its
// field, the conflict panel of a 412/409 (what changed, and a retry), and amounts typed as text.

import { h, replace, showFieldErrors } from '../../js/dom.js';
import { exponent } from '../../js/format.js';

/** Sentences for codes whose `detail` is not enough for a merchant. */
const SENTENCES = {
  network_error: "The store's API could not be reached. Check the connection and the API address in config.js.",
  unauthorized: 'Your sign-in has expired or is not valid here. Sign in again.',
  forbidden: 'This token is not an admin token: the store refuses admin actions with it.',
  not_found: 'Not found: it may have been removed, or the address is wrong.',
  internal_error: 'The store hit an internal error. Try again; if it persists, quote the request id.',
  service_unavailable: 'The store is busy. Try again in a moment.',
  version_conflict: 'Someone changed this since you opened it.',
  payment_provider_unavailable: 'The payment provider could not be reached. Nothing was changed; try again.',
};

function capitalise(text) {
  const t = String(text ?? '').replace(/`/g, '');
  return t ? t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : '';
}

/** The error box: the sentence, the field errors no field took, the request id. */
export function problemBox(error, unplaced = error?.errors ?? []) {
  const known = error && typeof error === 'object';
  const code = known ? error.code ?? 'unknown' : 'unknown';
  const sentence = SENTENCES[code] ?? (capitalise(known ? error.detail : '') || 'Something went wrong. Try again.');
  return h('div', { class: 'alert alert--error', role: 'alert', tabindex: '-1', 'data-code': code },
    h('p', { class: 'alert__title' }, sentence),
    unplaced.length ? h('ul', {}, unplaced.map((e) => h('li', {}, `${e.field}: ${capitalise(e.message)}`))) : null,
    known && error.requestId ? h('p', { class: 'problem__request' }, `Request id ${error.requestId}`) : null);
}

/** 'variants[0].prices[1].amount' → the names a form field may have, most precise first. */
function candidates(field) {
  const names = [];
  let name = String(field ?? '');
  while (name) {
    names.push(name);
    const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('['));
    name = cut > 0 ? name.slice(0, cut) : '';
  }
  return names;
}

/**
 * Shows `error` on `form`: each field error beside the field it names (or the nearest enclosing
 * one), the rest in the form's problem box. `null` clears both.
 * @param {HTMLFormElement} form @param {any} error
 */
export function showProblem(form, error) {
  let box = form.querySelector('.form-problem');
  if (!box) {
    box = h('div', { class: 'form-problem' });
    form.prepend(box);
  }
  if (!error) {
    showFieldErrors(form, {});
    replace(box);
    return;
  }
  const fields = {};
  const unplaced = [];
  for (const e of error.errors ?? []) {
    const name = candidates(e.field).find((n) => form.elements.namedItem(n));
    if (name) fields[name] = [fields[name], capitalise(e.message)].filter(Boolean).join(' ');
    else unplaced.push(e);
  }
  const first = showFieldErrors(form, fields);
  replace(box, problemBox(error, unplaced));
  (first ?? box.firstElementChild)?.focus?.();
}

/** A whole screen that could not load: never an empty page. */
export function failedScreen(main, title, error, retry) {
  replace(main, h('h1', { tabindex: '-1' }, title), problemBox(error),
    h('p', {}, h('button', { class: 'button button--secondary', type: 'button', onclick: retry }, 'Try again')));
}

/**
 * The panel of a 412/409: which fields differ between what the merchant started from and what
 * the store has now, and the ways on (retry over the new version, or take the new version).
 * @param {{error: any, before: Record<string, unknown> | null, now: Record<string, unknown> | null,
 *   retryLabel?: string, onRetry: () => void, onReload?: () => void}} options
 */
export function conflictBox({ error, before, now, retryLabel = 'Save mine over theirs', onRetry, onReload }) {
  const skip = new Set(['version', 'updated_at', 'created_at']);
  const changed = now
    ? Object.keys({ ...before, ...now }).filter((k) => !skip.has(k) && JSON.stringify(before?.[k]) !== JSON.stringify(now[k]))
    : [];
  const show = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v ?? '—'));
  return h('div', { class: 'conflict', role: 'alert', tabindex: '-1', 'data-code': error?.code ?? 'conflict' },
    h('p', { class: 'alert__title' }, h('strong', {}, 'This changed while you were editing. '), capitalise(error?.detail) || ''),
    changed.length
      ? h('ul', {}, changed.map((k) => h('li', {}, `${k}: ${show(before?.[k])} → now ${show(now?.[k])}`)))
      : h('p', {}, 'Nothing you can see differs; only its version moved on.'),
    h('p', { class: 'actions' },
      h('button', { class: 'button button--primary', type: 'button', onclick: onRetry }, retryLabel),
      onReload ? h('button', { class: 'button button--secondary', type: 'button', onclick: onReload }, 'Discard mine and reload') : null));
}

/** '49.00' in EUR → 4900, exactly (no floats); null when it is not an amount. */
export function toMinor(text, currency) {
  const digits = exponent(currency);
  const match = /^(\d+)(?:\.(\d*))?$/.exec(String(text).trim());
  if (!match || (match[2] ?? '').length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? '').padEnd(digits, '0') || 0);
}

/** 4900 in EUR → '49.00'. */
export function fromMinor(amount, currency) {
  const digits = exponent(currency);
  if (!digits) return String(amount);
  const text = String(amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** '49.00 EUR, 54 USD' → [{amount: 4900, currency: 'EUR'}, …]; throws a sentence for a bad part. */
export function parsePrices(text) {
  const parts = String(text).split(',').map((p) => p.trim()).filter(Boolean);
  return parts.map((part) => {
    const match = /^(\S+)\s+([A-Za-z]{3})$/.exec(part);
    let amount = null;
    try {
      amount = match ? toMinor(match[1], match[2].toUpperCase()) : null;
    } catch {
      amount = null;
    }
    if (amount === null) throw new Error(`“${part}” is not an amount and currency like “49.00 EUR”`);
    return { amount, currency: match[2].toUpperCase() };
  });
}

/** [{amount: 4900, currency: 'EUR'}] → '49.00 EUR'. */
export function formatPrices(prices) {
  return (prices ?? []).map((p) => `${fromMinor(p.amount, p.currency)} ${p.currency}`).join(', ');
}

/** 'a, b ,, c' → ['a', 'b', 'c']. */
export function list(text) {
  return String(text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
