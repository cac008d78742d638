// Order history: a signed-in customer's orders (GET /orders, newest first, paged); for a guest,
// the orders placed in this browser.

import { listOrders, ApiError } from '../api.js';
import { h } from '../dom.js';
import { money, date } from '../format.js';
import * as store from '../state.js';
import { statusBadge } from './order.js';

/** The orders `rows` as a table (the account page shows the latest in it too). */
export function table(rows, caption) {
  return h('table', { class: 'orders-table' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Order'), h('th', { scope: 'col' }, 'Date'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Total'))),
    h('tbody', {}, rows.map((o) => h('tr', { 'data-order': o.id },
      h('th', { scope: 'row' }, h('a', { href: `#/order/${encodeURIComponent(o.id)}` }, `#${o.number}`)),
      h('td', {}, date(o.created_at)),
      h('td', {}, o.status ? statusBadge(o) : '—'),
      h('td', { class: 'num' }, o.totals?.total ? money(o.totals.total) : o.total ? money(o.total) : '—')))));
}

export async function ordersView({ query }) {
  const session = store.get().session;
  if (!session) {
    const mine = store.get().orders ?? [];
    return {
      title: 'Your orders',
      node: h('section', { class: 'page' },
        h('h1', { tabindex: '-1' }, 'Your orders'),
        h('p', {}, h('a', { href: '#/signin?next=%2Forders' }, 'Sign in'), ' to see every order of your account.'),
        mine.length
          ? [h('h2', {}, 'Placed in this browser'), table(mine, 'Orders placed in this browser')]
          : h('div', { class: 'empty' }, h('p', {}, 'No orders were placed in this browser yet.'))),
    };
  }
  const cursor = query.get('cursor');
  let page;
  try {
    page = await listOrders({ limit: 10, cursor });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return {
        title: 'Your orders',
        node: h('section', { class: 'page' }, h('h1', { tabindex: '-1' }, 'Your orders'),
          h('p', { class: 'alert alert--warning' }, "Order history isn't available from this store yet.")),
      };
    }
    throw e;
  }
  const items = page.items ?? [];
  return {
    title: 'Your orders',
    node: h('section', { class: 'page' },
      h('h1', { tabindex: '-1' }, 'Your orders'),
      h('p', { class: 'hint' }, `Signed in as ${session.sub}${session.email ? ` (${session.email})` : ''}.`),
      items.length
        ? table(items, 'Your orders, newest first')
        : h('div', { class: 'empty' }, h('p', {}, cursor ? 'No more orders.' : "You haven't placed any orders yet."),
          h('p', {}, h('a', { class: 'button button--primary', href: '#/' }, 'Start shopping'))),
      (page.next_cursor || cursor) ? h('nav', { class: 'paging', 'aria-label': 'Pages' },
        cursor ? h('a', { class: 'button button--secondary', href: '#/orders' }, '← Newest orders') : null,
        page.next_cursor ? h('a', { class: 'button button--secondary', rel: 'next', href: `#/orders?cursor=${encodeURIComponent(page.next_cursor)}` }, 'Older orders →') : null) : null),
  };
}
