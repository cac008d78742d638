// The catalog: categories, search and paging over GET /products.

import { listProducts, categories } from '../api.js';
import { h, announce } from '../dom.js';
import { money, priceIn } from '../format.js';
import { displayCurrency } from '../currency.js';
import { productArt } from './product.js';

const PAGE_SIZE = 12;

function flatten(tree, depth = 0, out = []) {
  for (const node of tree) {
    out.push({ ...node, depth });
    flatten(node.children ?? [], depth + 1, out);
  }
  return out;
}

function link(params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const s = search.toString();
  return s ? `#/?${s}` : '#/';
}

/** "€49.00" or "From €18.00" for a product in `currency`; null when it has no price there. */
export function fromPrice(product, currency) {
  const prices = product.variants.map((v) => priceIn(v.prices, currency)).filter(Boolean);
  if (!prices.length) return null;
  const lowest = prices.reduce((a, b) => (b.amount < a.amount ? b : a));
  const same = prices.every((p) => p.amount === lowest.amount);
  return same ? money(lowest) : `From ${money(lowest)}`;
}

function stockText(product) {
  const total = product.variants.reduce((n, v) => n + Math.max(0, v.available ?? 0), 0);
  if (total === 0) return h('span', { class: 'stock stock--out' }, 'Sold out');
  if (product.variants.every((v) => (v.available ?? 0) > 0)) return h('span', { class: 'stock stock--in' }, 'In stock');
  return h('span', { class: 'stock stock--low' }, 'Some options sold out');
}

export async function catalogView({ query }) {
  const q = query.get('q') ?? '';
  const category = query.get('category') ?? '';
  const cursor = query.get('cursor') ?? '';
  const limit = Math.min(Math.max(Number(query.get('limit')) || PAGE_SIZE, 1), 100);
  const [tree, page, currency] = await Promise.all([
    categories(), listProducts({ limit, q, category, cursor }), displayCurrency(),
  ]);
  const cats = flatten(tree.items ?? []);
  const current = cats.find((c) => c.slug === category);
  const heading = q ? `Results for “${q}”` : current ? current.name : 'All products';
  const keep = { q, limit: query.get('limit') };

  const nav = h('nav', { class: 'categories', 'aria-label': 'Categories' },
    h('h2', { class: 'categories__title' }, 'Categories'),
    h('ul', {},
      h('li', {}, h('a', { href: link(keep), 'aria-current': category ? null : 'page' }, 'All products')),
      cats.map((c) => h('li', { class: `depth-${c.depth}` },
        h('a', { href: link({ ...keep, category: c.slug }), 'aria-current': c.slug === category ? 'page' : null }, c.name)))));

  const search = h('form', { class: 'search', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const value = new FormData(event.target).get('q').toString().trim();
    window.location.hash = link({ q: value, category, limit: query.get('limit') });
  } },
  h('label', { for: 'search-q' }, 'Search products'),
  h('div', { class: 'search__row' },
    h('input', { id: 'search-q', name: 'q', type: 'search', value: q, autocomplete: 'off', placeholder: 'e.g. linen' }),
    h('button', { class: 'button', type: 'submit' }, 'Search')));

  const items = page.items ?? [];
  const list = items.length
    ? h('ul', { class: 'product-grid', 'aria-label': heading },
      items.map((p) => {
        const price = fromPrice(p, currency);
        return h('li', { class: 'product-card' },
          h('a', { href: `#/product/${encodeURIComponent(p.slug)}`, class: 'product-card__link' },
            productArt(p, 'product-card__art'),
            h('h2', { class: 'product-card__title' }, p.title),
            h('p', { class: 'product-card__price' }, price ?? `Not sold in ${currency}`),
            h('p', {}, stockText(p))));
      }))
    : h('div', { class: 'empty' },
      h('p', {}, q ? `No products match “${q}”${current ? ` in ${current.name}` : ''}.` : 'There are no products here yet.'),
      q || category ? h('p', {}, h('a', { href: '#/' }, 'See all products')) : null);

  const paging = (page.next_cursor || cursor)
    ? h('nav', { class: 'paging', 'aria-label': 'Pages' },
      cursor ? h('a', { class: 'button button--secondary', href: link({ ...keep, category }) }, '← First page') : null,
      page.next_cursor ? h('a', { class: 'button button--secondary', href: link({ ...keep, category, cursor: page.next_cursor }), rel: 'next' }, 'Next page →') : null)
    : null;

  announce(items.length === 1 ? '1 product' : `${items.length} products${page.next_cursor ? ', more on the next page' : ''}`);
  return {
    title: heading,
    node: h('div', { class: 'catalog' },
      h('div', { class: 'catalog__head' }, h('h1', { tabindex: '-1' }, heading), search),
      h('div', { class: 'catalog__body' }, nav, h('section', { class: 'catalog__results', 'aria-label': 'Products' }, list, paging))),
  };
}
