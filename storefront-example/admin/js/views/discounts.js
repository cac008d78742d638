// Discounts: the list (switch one on or off) and a form for a new one, percentage or fixed.

import { h, replace, field, selectField, formValues } from '../../../js/dom.js';
import { dateTime, money } from '../../../js/format.js';
import * as admin from '../api.js';
import { showProblem, problemBox, parsePrices } from '../ui.js';

/** '12.5' (per cent) → '0.125', by moving the decimal point in the text: no float rounding. */
function fractionOf(percent) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(percent.trim());
  if (!match) return null;
  const [, whole, decimals = ''] = match;
  const digits = whole.padStart(3, '0') + decimals;
  const point = digits.length - decimals.length - 2;
  const text = `${digits.slice(0, point).replace(/^0+(?=\d)/, '')}.${digits.slice(point)}`.replace(/\.?0+$/, '');
  return text || '0';
}

export async function discountsView({ query, navigate }) {
  const cursor = query.get('cursor') ?? '';
  const { items, next_cursor: nextCursor } = await admin.listDiscounts({ cursor, limit: 50 });
  const box = h('div', {});
  const form = h('form', { class: 'admin-form', novalidate: true, 'aria-labelledby': 'new-discount', onsubmit: async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const errors = [];
    const body = { code: v.code ?? '', kind: v.kind ?? 'percentage', once_per_customer: v.once_per_customer === 'on', active: v.active === 'on' };
    if (body.kind === 'percentage') {
      const fraction = fractionOf(v.percentage ?? '');
      if (fraction) body.percentage = fraction;
      else errors.push({ field: 'percentage', message: 'a percentage like 10 or 12.5' });
    } else {
      try {
        body.amounts = parsePrices(v.amounts ?? '');
      } catch (e) {
        errors.push({ field: 'amounts', message: e.message });
      }
    }
    try {
      if (v.min_subtotal) body.min_subtotal = parsePrices(v.min_subtotal);
    } catch (e) {
      errors.push({ field: 'min_subtotal', message: e.message });
    }
    if (v.usage_limit) body.usage_limit = Number(v.usage_limit);
    if (v.starts_at) body.starts_at = new Date(v.starts_at).toISOString();
    if (v.ends_at) body.ends_at = new Date(v.ends_at).toISOString();
    if (errors.length) {
      showProblem(form, { code: 'validation_failed', detail: 'some fields need fixing', errors });
      return;
    }
    try {
      await admin.createDiscount(body);
      navigate('#/discounts');
    } catch (error) {
      showProblem(form, error);
    }
  } },
  h('h2', { id: 'new-discount' }, 'New discount'),
  h('div', { class: 'form-problem' }),
  field({ label: 'Code', name: 'code', required: true, hint: '3–32 letters, digits, - and _; shoppers type it at checkout' }),
  selectField({ label: 'Kind', name: 'kind', options: [['percentage', 'Percentage off'], ['fixed', 'Fixed amount off']], value: 'percentage' }),
  field({ label: 'Percentage off', name: 'percentage', inputmode: 'decimal', hint: 'For a percentage discount, e.g. 10' }),
  field({ label: 'Amounts off', name: 'amounts', hint: 'For a fixed discount, e.g. 5.00 EUR, 6.00 USD' }),
  field({ label: 'Minimum subtotal', name: 'min_subtotal', hint: 'e.g. 30.00 EUR' }),
  field({ label: 'Usage limit', name: 'usage_limit', type: 'number', attrs: { min: '1' } }),
  field({ label: 'Starts at', name: 'starts_at', type: 'datetime-local' }),
  field({ label: 'Ends at', name: 'ends_at', type: 'datetime-local' }),
  h('p', {}, h('label', {}, h('input', { type: 'checkbox', name: 'once_per_customer' }), ' Once per customer')),
  h('p', {}, h('label', {}, h('input', { type: 'checkbox', name: 'active', checked: true }), ' Active')),
  h('button', { class: 'button button--primary', type: 'submit' }, 'Create discount'));
  const toggle = (d) => async () => {
    try {
      await admin.patchDiscount(d.id, { active: !d.active }, admin.etagOf(d));
      navigate('#/discounts');
    } catch (error) {
      replace(box, problemBox(error));
    }
  };
  return [
    h('h1', {}, 'Discounts'),
    box,
    items.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, ['Code', 'Off', 'Minimum', 'Used', 'Ends', 'Active'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, items.map((d) => h('tr', { 'data-code': d.code },
          h('td', {}, d.code),
          h('td', {}, d.kind === 'percentage' ? `${(Number(d.percentage) * 100).toLocaleString()} %` : (d.amounts ?? []).map(money).join(', ')),
          h('td', {}, (d.min_subtotal ?? []).map(money).join(', ') || '—'),
          h('td', { class: 'num' }, `${d.times_used}${d.usage_limit ? ` / ${d.usage_limit}` : ''}`),
          h('td', {}, d.ends_at ? dateTime(d.ends_at) : '—'),
          h('td', {}, h('button', { class: 'button button--secondary', type: 'button', onclick: toggle(d) }, d.active ? `Switch ${d.code} off` : `Switch ${d.code} on`)))))))
      : h('p', { class: 'empty' }, 'No discounts yet.'),
    nextCursor ? h('p', { class: 'paging' }, h('a', { href: `#/discounts?cursor=${encodeURIComponent(nextCursor)}` }, 'Next page →')) : null,
    form,
  ];
}

