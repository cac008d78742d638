// One product: variant picker (one radio group per option), price in the display currency,
// availability, add to cart.

import { getProduct, ApiError, categories } from '../api.js';
import * as cart from '../cart.js';
import { displayCurrency } from '../currency.js';
import { h, replace, uid } from '../dom.js';
import { errorBox } from '../errors.js';
import { money, priceIn } from '../format.js';

/** The product's first image, or a calm placeholder made from its title (purely decorative). */
export function productArt(product, className) {
  const image = product.images?.[0];
  if (image?.url) {
    return h('img', { class: className, src: image.url, alt: image.alt ?? '', loading: 'lazy', width: '400', height: '400' });
  }
  let hash = 0;
  for (const ch of product.slug ?? product.title ?? '') hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const initials = (product.title ?? '?').split(/\s+/).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
  return h('div', { class: `${className} art art--${hash % 6}`, 'aria-hidden': 'true' }, h('span', {}, initials));
}

function availabilityText(variant) {
  const n = variant?.available ?? 0;
  if (n <= 0) return { text: 'Sold out', cls: 'stock--out' };
  if (n <= 5) return { text: `Only ${n} left`, cls: 'stock--low' };
  return { text: 'In stock', cls: 'stock--in' };
}

function variantFor(product, selection) {
  return product.variants.find((v) => product.options.every((o) => v.options?.[o.name] === selection[o.name])) ?? null;
}

export async function productView({ params, query, isCurrent }) {
  const [slug] = params;
  let product;
  try {
    product = await getProduct(slug);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return {
        title: 'Product not found',
        node: h('section', { class: 'page' },
          h('h1', { tabindex: '-1' }, 'Product not found'),
          h('p', {}, "We couldn't find this product. It may no longer be sold. ", h('a', { href: '#/' }, 'Back to the shop'), '.')),
      };
    }
    throw e;
  }
  const [currency, tree] = await Promise.all([displayCurrency(), categories().catch(() => ({ items: [] }))]);
  const options = product.options ?? [];
  const wanted = product.variants.find((v) => v.sku === query.get('sku'));
  let variant = wanted ?? product.variants.find((v) => (v.available ?? 0) > 0) ?? product.variants[0];
  const selection = { ...(variant?.options ?? {}) };

  const priceEl = h('p', { class: 'product__price' });
  const stockEl = h('p', { class: 'stock' });
  const skuEl = h('p', { class: 'product__sku' });
  const quantity = h('input', { id: uid('qty'), name: 'quantity', type: 'number', min: '1', max: '99', value: '1', inputmode: 'numeric', required: true });
  const addButton = h('button', { class: 'button button--primary', type: 'submit' }, 'Add to cart');
  const feedback = h('div', { class: 'feedback' });

  const pickers = options.map((option) => {
    const name = `option-${option.name}`;
    return h('fieldset', { class: 'option' },
      h('legend', {}, option.name),
      h('div', { class: 'option__values' }, option.values.map((value) => {
        const id = uid('opt');
        return h('div', { class: 'option__value' },
          h('input', { type: 'radio', id, name, value, checked: selection[option.name] === value,
            onchange: () => { selection[option.name] = value; choose(option.name); } }),
          h('label', { for: id, 'data-option': option.name, 'data-value': value }, value, h('span', { class: 'option__note' })));
      })));
  });

  function refresh() {
    const price = variant && priceIn(variant.prices, currency);
    priceEl.textContent = price ? money(price) : `Not sold in ${currency}`;
    const stock = availabilityText(variant);
    stockEl.className = `stock ${stock.cls}`;
    stockEl.textContent = variant ? stock.text : 'This combination is not sold';
    skuEl.textContent = variant ? `SKU ${variant.sku}` : '';
    const buyable = Boolean(variant && price && (variant.available ?? 0) > 0);
    addButton.disabled = !buyable;
    quantity.max = String(Math.max(1, Math.min(99, variant?.available ?? 1)));
    if (Number(quantity.value) > Number(quantity.max)) quantity.value = quantity.max;
    // Mark option values that are sold out with the other options as chosen.
    for (const label of pickers.flatMap((p) => [...p.querySelectorAll('label[data-option]')])) {
      const other = { ...selection, [label.dataset.option]: label.dataset.value };
      const v = variantFor(product, other);
      const out = !v || (v.available ?? 0) <= 0;
      label.classList.toggle('is-sold-out', out);
      label.querySelector('.option__note').textContent = out ? ' — sold out' : '';
    }
  }

  function choose(changed) {
    variant = variantFor(product, selection)
      ?? product.variants.find((v) => v.options?.[changed] === selection[changed]) ?? null;
    if (variant) Object.assign(selection, variant.options);
    for (const input of pickers.flatMap((p) => [...p.querySelectorAll('input')])) {
      input.checked = selection[input.name.replace(/^option-/, '')] === input.value;
    }
    refresh();
    replace(feedback);
    if (variant) window.history.replaceState(null, '', `#/product/${encodeURIComponent(product.slug)}?sku=${encodeURIComponent(variant.sku)}`);
  }

  const form = h('form', { class: 'product__buy', onsubmit: async (event) => {
    event.preventDefault();
    if (!variant || !form.reportValidity()) return;
    const qty = Number(quantity.value);
    addButton.disabled = true;
    addButton.textContent = 'Adding…';
    replace(feedback);
    try {
      await cart.add(variant.sku, qty, currency);
      if (!isCurrent()) return;
      const what = `${qty} × ${product.title}${variant.title ? ` — ${variant.title}` : ''}`;
      replace(feedback, h('div', { class: 'alert alert--success', role: 'status' },
        h('p', {}, `Added ${what} to your cart.`),
        h('p', { class: 'alert__actions' },
          h('a', { class: 'button button--primary', href: '#/cart' }, 'View cart'),
          h('a', { class: 'button button--secondary', href: '#/' }, 'Keep shopping'))));
    } catch (e) {
      if (!isCurrent()) return;
      const box = errorBox(e);
      replace(feedback, box);
      box.focus();
    } finally {
      addButton.textContent = 'Add to cart';
      refresh();
    }
  } },
  pickers,
  h('div', { class: 'field field--narrow' }, h('label', { for: quantity.id }, 'Quantity'), quantity),
  addButton);

  const cats = [];
  (function walk(nodes) { for (const n of nodes) { cats.push(n); walk(n.children ?? []); } })(tree.items ?? []);
  const category = cats.find((c) => c.slug === product.categories?.[0]);

  refresh();
  return {
    title: product.title,
    node: h('article', { class: 'product' },
      h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('ol', {},
        h('li', {}, h('a', { href: '#/' }, 'Shop')),
        category ? h('li', {}, h('a', { href: `#/?category=${encodeURIComponent(category.slug)}` }, category.name)) : null,
        h('li', {}, h('span', { 'aria-current': 'page' }, product.title)))),
      h('div', { class: 'product__layout' },
        productArt(product, 'product__art'),
        h('div', { class: 'product__details' },
          h('h1', { tabindex: '-1' }, product.title),
          h('div', { class: 'product__summary', 'aria-live': 'polite' }, priceEl, stockEl),
          product.description ? h('p', { class: 'product__description' }, product.description) : null,
          form,
          feedback,
          skuEl))),
  };
}
