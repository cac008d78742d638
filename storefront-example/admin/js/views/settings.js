// Store settings: currencies, whether prices include tax, tax rates, and shipping zones (a form of
// their own, ./shipping.js). The whole document is replaced, guarded by its version.

import { h, replace, field, formValues, announce } from '../../../js/dom.js';
import * as admin from '../api.js';
import { showProblem, conflictBox, list } from '../ui.js';
import { zonesEditor } from './shipping.js';

export async function settingsView() {
  const root = h('div', {});
  draw(root, await admin.getSettings());
  return root;
}

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
  h('h2', {}, 'Shipping zones'),
  zonesForm.element,
  conflict,
  h('button', { class: 'button button--primary', type: 'submit' }, 'Save settings'));
  replace(root, h('h1', {}, 'Store settings'),
    notice ? h('p', { class: 'alert alert--success', role: 'status' }, notice) : null,
    h('p', {}, `Shipping to: ${(settings.countries ?? []).join(', ') || 'nowhere yet'}.`),
    form);
}
