// Inventory: units on hand, reserved by unpaid orders and available, per SKU of the listed
// products; setting on hand is guarded by the level's ETag, so a sale or another merchant's edit
// made meanwhile is shown (412) rather than overwritten.

import { h, replace, field, selectField, formValues, announce } from '../../../js/dom.js';
import * as admin from '../api.js';
import { showProblem, conflictBox } from '../ui.js';

export async function inventoryView({ query, navigate }) {
  const q = (query.get('q') ?? '').trim();
  const status = query.get('status') || 'active';
  const { items } = await admin.listProducts({ q, status, limit: 50 });
  const skus = items.flatMap((p) => p.variants.map((v) => ({ product: p, variant: v })));
  const levels = await Promise.all(skus.map(({ variant }) => admin.getInventory(variant.sku)));
  const form = h('form', { class: 'toolbar', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const v = formValues(form);
    navigate(`#/inventory?${new URLSearchParams({ q: v.q ?? '', status: v.status ?? '' })}`);
  } },
  field({ label: 'Search products', name: 'q', type: 'search', value: q }),
  selectField({ label: 'Status', name: 'status', options: [['active', 'Active'], ['draft', 'Draft'], ['archived', 'Archived']], value: status }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Search'));
  return [
    h('h1', {}, 'Inventory'),
    form,
    skus.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, ['Product', 'SKU', 'On hand', 'Reserved', 'Available', 'Set on hand'].map((t) => h('th', { scope: 'col', class: ['On hand', 'Reserved', 'Available'].includes(t) ? 'num' : null }, t)))),
        h('tbody', {}, skus.map(({ product, variant }, i) => levelRow(product, variant, levels[i])))))
      : h('p', { class: 'empty' }, 'No products match.'),
  ];
}

function levelRow(product, variant, { data: initial, etag: initialEtag }) {
  let level = initial;
  let etag = initialEtag;
  const cells = { on_hand: h('td', { class: 'num', 'data-col': 'on_hand' }), reserved: h('td', { class: 'num', 'data-col': 'reserved' }), available: h('td', { class: 'num', 'data-col': 'available' }) };
  const show = () => {
    for (const k of ['on_hand', 'reserved', 'available']) replace(cells[k], String(level[k]));
  };
  show();
  const conflict = h('div', {});
  const save = async (onHand, ifMatch) => {
    replace(conflict);
    try {
      ({ data: level, etag } = await admin.putInventory(variant.sku, onHand, ifMatch));
      show();
      showProblem(form, null);
      announce(`${variant.sku}: ${level.on_hand} on hand.`);
      replace(conflict, h('p', { class: 'alert alert--success', role: 'status' }, `Saved: ${level.on_hand} on hand.`));
    } catch (error) {
      if (error?.status === 412) {
        showProblem(form, null);
        const before = level;
        ({ data: level, etag } = await admin.getInventory(variant.sku));
        show();
        replace(conflict, conflictBox({ error, before, now: level, retryLabel: `Set ${onHand} on hand anyway`, onRetry: () => save(onHand, etag),
          onReload: () => {
            /** @type {HTMLInputElement} */ (form.elements.namedItem('on_hand')).value = String(level.on_hand);
            replace(conflict);
          } }));
        /** @type {HTMLElement | null} */ (conflict.firstElementChild)?.focus();
      } else {
        showProblem(form, error);
      }
    }
  };
  const form = h('form', { 'data-sku': variant.sku, novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    const text = formValues(form).on_hand ?? '';
    if (!/^\d+$/.test(text)) {
      showProblem(form, { code: 'validation_failed', detail: 'on hand must be a whole number', errors: [{ field: 'on_hand', message: 'a whole number of units, 0 or more' }] });
      return;
    }
    save(Number(text), etag);
  } },
  h('div', { class: 'form-problem' }),
  field({ label: `On hand of ${variant.sku}`, name: 'on_hand', type: 'number', value: String(level.on_hand), inputmode: 'numeric', attrs: { min: '0' } }),
  h('button', { class: 'button button--secondary', type: 'submit' }, `Save ${variant.sku}`),
  conflict);
  return h('tr', { 'data-sku': variant.sku },
    h('td', {}, h('a', { href: `#/products/${encodeURIComponent(product.id)}` }, product.title), variant.title ? ` — ${variant.title}` : ''),
    h('td', {}, variant.sku), cells.on_hand, cells.reserved, cells.available, h('td', {}, form));
}
