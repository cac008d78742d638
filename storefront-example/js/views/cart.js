// The cart: quantities, discount code, delivery address and options, totals with tax.

import { settings, ApiError } from '../api.js';
import * as cart from '../cart.js';
import { h, replace, announce, uid, showFieldErrors } from '../dom.js';
import { errorBox, explain } from '../errors.js';
import { money, lineTitle, currencyName, country } from '../format.js';
import { addressFieldset, readAddress, shippingOptions, totals } from './parts.js';
import { productArt } from './product.js';

function unavailableText(line, currency) {
  switch (line.unavailable_reason) {
    case 'insufficient_stock':
      return line.available_quantity > 0
        ? `Only ${line.available_quantity} left — please lower the quantity.`
        : 'Sold out — please remove it from your cart.';
    case 'no_price_in_currency':
      return `Not sold in ${currencyName(currency)} — please remove it.`;
    case 'archived':
    case 'unknown_sku':
      return 'No longer sold — please remove it from your cart.';
    default:
      return line.available ? null : 'Not available — please remove it from your cart.';
  }
}

export async function cartView({ isCurrent }) {
  const [current, store] = await Promise.all([cart.load(), settings()]);
  const root = h('div', { class: 'cart-page' });
  let busy = Promise.resolve();
  let openAddress = false;
  let editingAddress = false;

  /** Runs one change at a time; redraws with the cart it returns; keeps focus where it was. */
  function change(action, { errorSlot, onError, done, before } = {}) {
    busy = busy.then(async () => {
      const focusKey = document.activeElement?.dataset?.focus;
      try {
        const updated = await action();
        if (!isCurrent()) return;
        before?.();
        draw(updated);
        done?.(updated);
      } catch (e) {
        if (!isCurrent()) return;
        if (onError?.(e)) return;
        const slot = errorSlot?.() ?? root.querySelector('[data-slot="page-error"]');
        const box = errorBox(e);
        replace(slot, box);
        box.focus();
        return;
      }
      const again = focusKey && root.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    });
    return busy;
  }

  function draw(c) {
    if (!c || !c.items.length) {
      replace(root,
        h('h1', { tabindex: '-1' }, 'Your cart'),
        h('div', { class: 'empty' }, h('p', {}, 'Your cart is empty.'), h('p', {}, h('a', { class: 'button button--primary', href: '#/' }, 'Start shopping'))));
      return;
    }
    const blocked = c.items.some((l) => !l.available);
    const lines = h('ul', { class: 'cart-lines', 'aria-label': 'Items in your cart' }, c.items.map((line) => {
      const title = lineTitle(line);
      const qtyId = uid('qty');
      const warning = unavailableText(line, c.currency);
      const quantity = h('input', {
        id: qtyId, type: 'number', min: '0', max: '99', value: String(line.quantity), inputmode: 'numeric',
        'data-focus': `qty-${line.sku}`, 'data-sku': line.sku, 'aria-describedby': warning ? `${qtyId}-warn` : null,
        onchange: (event) => {
          const n = Number(event.target.value);
          if (!Number.isInteger(n) || n < 0 || n > 99) {
            event.target.value = String(line.quantity);
            return;
          }
          change(() => (n === 0 ? cart.remove(line.sku) : cart.setQuantity(line.sku, n)), {
            done: () => announce(n === 0 ? `${title} removed.` : `Quantity of ${title} is now ${n}.`),
          });
        },
      });
      return h('li', { class: `cart-line${line.available ? '' : ' cart-line--unavailable'}`, 'data-sku': line.sku },
        productArt({ title: line.title ?? line.sku, slug: line.sku, images: line.image_url ? [{ url: line.image_url, alt: '' }] : [] }, 'cart-line__art'),
        h('div', { class: 'cart-line__info' },
          h('h2', { class: 'cart-line__title' }, line.product_id
            ? h('a', { href: `#/product/${encodeURIComponent(line.product_id)}?sku=${encodeURIComponent(line.sku)}` }, line.title ?? line.sku)
            : line.title ?? line.sku),
          line.variant_title ? h('p', { class: 'cart-line__variant' }, line.variant_title) : null,
          h('p', { class: 'cart-line__unit' }, line.unit_price ? `${money(line.unit_price)} each` : ''),
          warning ? h('p', { class: 'cart-line__warning', id: `${qtyId}-warn` }, warning,
            line.unavailable_reason === 'insufficient_stock' && line.available_quantity > 0
              ? h('button', { type: 'button', class: 'link-button cart-line__fix', 'data-focus': `fix-${line.sku}`,
                onclick: () => change(() => cart.setQuantity(line.sku, line.available_quantity), {
                  done: () => announce(`Quantity of ${title} is now ${line.available_quantity}.`),
                }) }, `Change to ${line.available_quantity}`)
              : null) : null),
        h('div', { class: 'cart-line__qty' },
          h('label', { for: qtyId }, 'Quantity', h('span', { class: 'visually-hidden' }, ` of ${title}`)),
          quantity),
        h('p', { class: 'cart-line__total' }, line.line_total && line.available
          ? money(line.line_total)
          : h('span', { class: 'cart-line__excluded' }, 'Not counted')),
        h('button', { type: 'button', class: 'link-button cart-line__remove', 'data-focus': `remove-${line.sku}`,
          onclick: () => change(() => cart.remove(line.sku), { done: () => {
            announce(`${title} removed from your cart.`);
            root.querySelector('h1')?.focus();
          } }) }, 'Remove', h('span', { class: 'visually-hidden' }, ` ${title}`)));
    }));

    // Discount code.
    const discountError = h('div', { 'data-slot': 'discount-error' });
    const discount = c.discount
      ? h('div', { class: 'discount-applied' },
        h('p', {}, c.discount.applicable
          ? `Code ${c.discount.code} applied: ${money(c.discount.amount)} off.`
          : `Code ${c.discount.code} no longer applies${c.discount.reason ? `: ${c.discount.reason}` : ''}.`),
        h('button', { type: 'button', class: 'link-button', 'data-focus': 'discount-remove',
          onclick: () => change(() => cart.removeDiscount(), { errorSlot: () => discountError, done: () => announce('Discount code removed.') }) },
        'Remove code'),
        discountError)
      : (() => {
        const form = h('form', { class: 'discount-form', novalidate: true, onsubmit: (event) => {
          event.preventDefault();
          const code = form.elements.namedItem('code').value.trim();
          if (!code) {
            showFieldErrors(form, { code: 'Enter a discount code.' }).focus();
            return;
          }
          change(() => cart.applyDiscount(code), {
            done: (updated) => announce(`Code ${updated.discount?.code ?? code} applied.`),
            onError: (e) => {
              if (!(e instanceof ApiError) || e.status >= 500 || e.status === 0) return false;
              const input = showFieldErrors(form, { code: explain(e).message });
              input?.focus();
              return true;
            },
          });
        } },
        h('div', { class: 'field' },
          h('label', { for: 'discount-code' }, 'Discount code'),
          h('div', { class: 'inline-form' },
            h('input', { id: 'discount-code', name: 'code', type: 'text', autocomplete: 'off', autocapitalize: 'characters', 'data-focus': 'discount-code' }),
            h('button', { type: 'submit', class: 'button button--secondary' }, 'Apply'))),
        discountError);
        return form;
      })();

    // Delivery: optional here (checkout asks for it); it shows delivery options and tax early.
    const deliveryError = h('div', { 'data-slot': 'delivery-error' });
    const chooseOption = (id) => change(() => cart.setShipping(c.shipping_address, id), {
      errorSlot: () => deliveryError, done: () => announce('Delivery option saved. Totals updated.'),
    });
    let delivery;
    if (editingAddress || (!c.shipping_address && openAddress)) {
      const deliveryForm = h('form', { class: 'delivery-form', novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        const address = readAddress(deliveryForm);
        const missing = {};
        for (const el of deliveryForm.querySelectorAll('input, select')) {
          if (el.name && !el.checkValidity()) missing[el.name] = 'Please fill this in.';
        }
        if (Object.keys(missing).length) {
          showFieldErrors(deliveryForm, missing).focus();
          return;
        }
        saveShipping(address, c.shipping_method?.id, deliveryForm, deliveryError);
      } },
      addressFieldset({ address: c.shipping_address, countries: store.countries }),
      deliveryError,
      h('p', { class: 'actions' },
        h('button', { type: 'submit', class: 'button button--secondary', 'data-focus': 'delivery-submit' }, 'Show delivery options'),
        c.shipping_address ? h('button', { type: 'button', class: 'link-button', onclick: () => {
          editingAddress = false;
          draw(c);
          root.querySelector('[data-focus="delivery-change"]')?.focus();
        } }, 'Cancel') : null));
      delivery = deliveryForm;
    } else if (c.shipping_address) {
      const a = c.shipping_address;
      delivery = h('div', {},
        h('p', { class: 'delivery-to' }, h('span', { class: 'delivery-to__label' }, 'Deliver to '),
          [a.name, a.line1, `${a.postal_code} ${a.city}`, country(a.country)].join(', '), ' ',
          h('button', { type: 'button', class: 'link-button', 'data-focus': 'delivery-change', onclick: () => {
            editingAddress = true;
            draw(c);
            root.querySelector('.delivery-form input')?.focus();
          } }, 'Change', h('span', { class: 'visually-hidden' }, ' delivery address'))),
        deliveryError,
        shippingOptions(c, { onchoose: chooseOption }));
    } else {
      delivery = h('div', {},
        h('p', { class: 'hint' }, 'See the delivery options and tax for your address now, or later at checkout.'),
        h('button', { type: 'button', class: 'button button--secondary', 'data-focus': 'delivery-open', 'aria-expanded': 'false', onclick: () => {
          openAddress = true;
          draw(c);
          root.querySelector('.delivery-form input')?.focus();
        } }, 'Enter delivery address'));
    }

    replace(root,
      h('h1', { tabindex: '-1' }, 'Your cart'),
      h('div', { 'data-slot': 'page-error' }),
      h('div', { class: 'cart-layout' },
        h('div', { class: 'cart-main' },
          lines,
          h('section', { class: 'panel', 'aria-labelledby': 'delivery-title' },
            h('h2', { id: 'delivery-title' }, 'Delivery'),
            delivery)),
        h('aside', { class: 'cart-summary panel', 'aria-labelledby': 'summary-title' },
          h('h2', { id: 'summary-title' }, 'Summary'),
          discount,
          totals(c, { caption: 'Cart totals' }),
          blocked
            ? h('p', { class: 'alert alert--warning' }, 'Some items above cannot be bought as they are, so they are not counted. Change or remove them to check out.')
            : null,
          blocked
            ? h('button', { type: 'button', class: 'button button--primary button--block', disabled: true }, 'Go to checkout')
            : h('a', { class: 'button button--primary button--block', href: '#/checkout' }, 'Go to checkout'),
          h('p', { class: 'hint' }, `Prices in ${currencyName(c.currency)}.`))));
  }

  function saveShipping(address, method, form, errorSlot) {
    replace(errorSlot);
    showFieldErrors(form, {});
    const withMethod = () => cart.setShipping(address, method).catch((e) => {
      // The method chosen before is not offered for the new address: choose again.
      if (method && e instanceof ApiError && e.code === 'shipping_method_unavailable') return cart.setShipping(address);
      throw e;
    });
    change(async () => {
      let updated = await withMethod();
      // Choose the first (usually cheapest) option, so the totals show what delivery costs.
      if (!updated.shipping_method && updated.shipping_options.length) {
        updated = await cart.setShipping(address, updated.shipping_options[0].id);
      }
      return updated;
    }, {
      errorSlot: () => errorSlot,
      before: () => { editingAddress = false; openAddress = false; },
      done: (updated) => {
        announce(`${updated.shipping_options.length} delivery options. Totals updated.`);
        root.querySelector('.shipping-options input:checked, [data-focus="delivery-change"]')?.focus();
      },
      onError: (e) => {
        if (!(e instanceof ApiError)) return false;
        const { fields } = explain(e);
        const first = showFieldErrors(form, fields);
        const box = errorBox(e);
        replace(errorSlot, box);
        (first ?? box).focus();
        return true;
      },
    });
  }

  draw(current);
  return { title: 'Your cart', node: root };
}
