// Store settings: currencies, whether prices include tax, tax rates, shipping zones (a form of
// their own, ./shipping.js), and what the order e-mails say: name, address, reply-to, locale. The
// whole document is replaced, guarded by its version, so every field is sent back as it was read.

import { h, replace, field, selectField, formValues, announce } from '../../../js/dom.js';
import * as admin from '../api.js';
import { showProblem, conflictBox, list } from '../ui.js';
import { zonesEditor } from './shipping.js';

export async function settingsView() {
  const root = h('div', {});
  draw(root, await admin.getSettings());
  return root;
}

/** The locales `PUT /settings` accepts (docs/api.md). */
const LOCALES = [['en-US', 'English (US)'], ['en-GB', 'English (UK)'], ['de-DE', 'Deutsch'], ['fr-FR', 'Français'], ['nl-NL', 'Nederlands'], ['es-ES', 'Español'], ['it-IT', 'Italiano']];

/** 'DE 0.19' / 'US CA 0.0725' lines ↔ tax rates. */
const ratesText = (rates) => (rates ?? []).map((r) => [r.country, r.region, r.rate].filter(Boolean).join(' ')).join('\n');
function parseRates(text) {
  return String(text ?? '').split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const parts = line.split(/\s+/);
    return parts.length === 3 ? { country: parts[0], region: parts[1], rate: parts[2] } : { country: parts[0], region: null, rate: parts[1] ?? '' };
  });
}

function draw(root, settings, notice = null) {
  const conflict = h('div', {});
  const zonesForm = zonesEditor(settings.shipping_zones);
  const save = async (ifMatch) => {
    const v = formValues(form);
    const { zones, errors } = zonesForm.read();
    if (errors.length) {
      showProblem(form, { code: 'validation_failed', detail: 'Some shipping rates need fixing before saving.', errors });
      return;
    }
    const body = {
      currencies: list(v.currencies).map((c) => c.toUpperCase()),
      prices_include_tax: v.prices_include_tax === 'on',
      tax_rates: parseRates(v.tax_rates),
      shipping_zones: zones,
      // Empty means "not set": the notifications function's own variables are used.
      store_name: v.store_name ?? '',
      store_address: v.store_address ?? '',
      reply_to: v.reply_to ?? '',
      locale: v.locale || 'en-US',
    };
    replace(conflict);
    try {
      const saved = await admin.putSettings(body, ifMatch);
      draw(root, saved, 'Settings saved.');
      announce('Settings saved.');
    } catch (error) {
      if (error?.status === 412) {
        showProblem(form, null);
        const now = await admin.getSettings();
        replace(conflict, conflictBox({ error, before: settings, now, onRetry: () => save(admin.etagOf(now)), onReload: () => draw(root, now, 'Reloaded the current settings.') }));
        /** @type {HTMLElement | null} */ (conflict.firstElementChild)?.focus();
      } else {
        showProblem(form, error);
      }
    }
  };
  const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    save(admin.etagOf(settings));
  } },
  h('div', { class: 'form-problem' }),
  field({ label: 'Currencies', name: 'currencies', value: (settings.currencies ?? []).join(', '), required: true, hint: 'ISO codes, the default first, e.g. EUR, USD' }),
  h('p', {}, h('label', {}, h('input', { type: 'checkbox', name: 'prices_include_tax', checked: Boolean(settings.prices_include_tax) }), ' Prices include tax')),
  h('div', { class: 'field', 'data-field': 'tax_rates' }, h('label', { for: 'tax_rates' }, 'Tax rates'),
    h('p', { class: 'hint' }, 'One per line: country, optional region, rate, e.g. DE 0.19 or US CA 0.0725'),
    h('textarea', { id: 'tax_rates', name: 'tax_rates' }, ratesText(settings.tax_rates))),
  h('h2', {}, 'Order e-mails'),
  field({ label: 'Store name', name: 'store_name', value: settings.store_name ?? '', hint: 'The sender name and heading of the e-mails' }),
  h('div', { class: 'field', 'data-field': 'store_address' }, h('label', { for: 'store_address' }, 'Postal address', h('span', { class: 'optional' }, ' (optional)')),
    h('p', { class: 'hint' }, 'Up to 6 lines, shown at the foot of every e-mail'),
    h('textarea', { id: 'store_address', name: 'store_address', rows: 4 }, settings.store_address ?? '')),
  field({ label: 'Reply-to address', name: 'reply_to', type: 'email', value: settings.reply_to ?? '', hint: 'Where shoppers\' replies go' }),
  selectField({ label: 'Locale', name: 'locale', options: LOCALES, value: settings.locale ?? 'en-US' }),
  h('h2', {}, 'Shipping zones'),
  zonesForm.element,
  conflict,
  h('button', { class: 'button button--primary', type: 'submit' }, 'Save settings'));
  replace(root, h('h1', {}, 'Store settings'),
    notice ? h('p', { class: 'alert alert--success', role: 'status' }, notice) : null,
    h('p', {}, `Shipping to: ${(settings.countries ?? []).join(', ') || 'nowhere yet'}.`),
    form);
}
