// Pieces the cart, checkout, payment and order pages share: the address fields, the delivery
// options, the totals.

import { h, field, selectField, uid } from '../dom.js';
import { money, minus, country } from '../format.js';

/** The delivery address fields, prefilled from `address`; `countries` are the ones shipped to. */
export function addressFieldset({ address, countries, legend = 'Delivery address' }) {
  const a = address ?? {};
  const choices = [['', 'Choose a country'], ...countries.map((c) => [c, country(c)]).sort((x, y) => x[1].localeCompare(y[1]))];
  return h('fieldset', { class: 'address' },
    h('legend', {}, legend),
    field({ label: 'Full name', name: 'name', value: a.name, required: true, autocomplete: 'shipping name' }),
    field({ label: 'Address', name: 'line1', value: a.line1, required: true, autocomplete: 'shipping address-line1' }),
    field({ label: 'Address line 2', name: 'line2', value: a.line2, autocomplete: 'shipping address-line2' }),
    h('div', { class: 'field-row' },
      field({ label: 'Postal code', name: 'postal_code', value: a.postal_code, required: true, autocomplete: 'shipping postal-code' }),
      field({ label: 'City', name: 'city', value: a.city, required: true, autocomplete: 'shipping address-level2' })),
    h('div', { class: 'field-row' },
      field({ label: 'State or region', name: 'region', value: a.region, autocomplete: 'shipping address-level1' }),
      selectField({ label: 'Country', name: 'country', options: choices, value: a.country ?? '', required: true, autocomplete: 'shipping country' })),
    field({ label: 'Phone', name: 'phone', type: 'tel', value: a.phone, autocomplete: 'shipping tel', hint: 'Only for the courier, if they need to reach you.' }));
}

/** The address in a form, as the API wants it (empty optional fields are null). */
export function readAddress(form) {
  const get = (name) => (form.elements.namedItem(name)?.value ?? '').trim();
  const optional = (name) => get(name) || null;
  return {
    name: get('name'), line1: get('line1'), line2: optional('line2'), city: get('city'),
    postal_code: get('postal_code'), region: optional('region'), country: get('country'), phone: optional('phone'),
  };
}

export function addressComplete(a) {
  return Boolean(a.name && a.line1 && a.city && a.postal_code && a.country);
}

export function sameAddress(a, b) {
  if (!a || !b) return false;
  return ['name', 'line1', 'line2', 'city', 'postal_code', 'region', 'country', 'phone'].every((k) => (a[k] ?? null) === (b[k] ?? null));
}

/** Radio buttons for the cart's delivery options; `onchoose(id)` when one is picked. */
export function shippingOptions(cart, { onchoose, required = false } = {}) {
  const chosen = cart.shipping_method?.id ?? null;
  const options = cart.shipping_options ?? [];
  return h('fieldset', { class: 'shipping-options' },
    h('legend', {}, 'Delivery option'),
    options.length
      ? h('div', { class: 'choices' }, options.map((option) => {
        const id = uid('ship');
        // The chosen option's price is what it really costs (a free-shipping threshold may apply).
        const price = option.id === chosen && cart.shipping_method ? cart.shipping_method.price : option.price;
        return h('div', { class: 'choice' },
          h('input', { type: 'radio', id, name: 'shipping_method', value: option.id, checked: option.id === chosen, required,
            onchange: () => onchoose?.(option.id) }),
          h('label', { for: id }, h('span', {}, option.name), h('span', { class: 'choice__price' }, price.amount === 0 ? 'Free' : money(price))));
      }))
      : h('p', { class: 'hint' }, cart.shipping_address
        ? 'No delivery options for this address.'
        : 'Enter the delivery address to see the delivery options.'));
}

/** Subtotal, discount, shipping, tax and total of a cart or an order. */
export function totals(subject, { caption = 'Order total' } = {}) {
  const t = subject.totals;
  const hasAddress = Boolean(subject.shipping_address);
  const hasMethod = Boolean(subject.shipping_method);
  const inclusive = subject.prices_include_tax ?? true;
  const rows = [
    ['Subtotal', money(t.subtotal)],
    t.discount?.amount ? [`Discount${subject.discount?.code ? ` (${subject.discount.code})` : subject.discount_code ? ` (${subject.discount_code})` : ''}`, minus(t.discount)] : null,
    ['Delivery', hasMethod ? (t.shipping.amount === 0 ? 'Free' : money(t.shipping)) : 'At checkout'],
    [inclusive ? 'Tax included' : 'Tax', hasAddress ? money(t.tax) : 'At checkout'],
    t.refunded?.amount ? ['Refunded', minus(t.refunded)] : null,
  ].filter(Boolean);
  return h('dl', { class: 'totals', 'aria-label': caption },
    rows.map(([k, v]) => h('div', { class: 'totals__row' }, h('dt', {}, k), h('dd', {}, v))),
    h('div', { class: 'totals__row totals__row--total' }, h('dt', {}, 'Total'), h('dd', { 'data-total': '' }, money(t.total))));
}

/** A compact list of lines (cart or order) for summaries. */
export function lineSummary(lines) {
  return h('ul', { class: 'line-summary' }, lines.map((l) => {
    const unavailable = l.available === false;
    const why = l.unavailable_reason !== 'insufficient_stock' ? 'Not available'
      : l.available_quantity > 0 ? `Only ${l.available_quantity} left` : 'Sold out';
    return h('li', { class: unavailable ? 'is-unavailable' : null },
      h('span', { class: 'line-summary__title' }, l.variant_title ? `${l.title} — ${l.variant_title}` : l.title ?? l.sku,
        unavailable ? h('span', { class: 'line-summary__why' }, why) : null),
      h('span', { class: 'line-summary__qty' }, `× ${l.quantity}`),
      h('span', { class: 'line-summary__total' }, unavailable ? 'Not counted' : l.line_total ? money(l.line_total) : ''));
  }));
}
