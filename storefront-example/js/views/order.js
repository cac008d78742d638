// One order: the confirmation after paying (`?placed=1`) and the order-status page. A guest reads
// it with the order token kept in this browser (X-Order-Token), a customer with their JWT.

import { getOrder, ApiError } from '../api.js';
import { h, replace, announce } from '../dom.js';
import { errorBox } from '../errors.js';
import { money, minus, dateTime, country, orderStatus, orderStatusSentence, paymentStatus, fulfilmentStatus } from '../format.js';
import { paymentFor } from '../stripe.js';
import * as store from '../state.js';
import { totals } from './parts.js';

// `token`: the order token from the link in an order e-mail, for a guest on another device.
const fetchOrder = (id, token) => getOrder(id, token ?? store.orderToken(id) ?? undefined);

function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

function addressBlock(a) {
  if (!a) return null;
  return h('address', {}, [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.region, country(a.country), a.phone]
    .filter(Boolean).flatMap((line, i) => (i ? [h('br'), line] : [line])));
}

function orderLines(order) {
  return h('table', { class: 'order-lines' },
    h('caption', { class: 'visually-hidden' }, 'Items in this order'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'num' }, 'Quantity'), h('th', { scope: 'col', class: 'num' }, 'Price'))),
    h('tbody', {}, order.lines.map((l) => h('tr', {},
      h('th', { scope: 'row' }, l.title, h('span', { class: 'order-lines__sku' }, ` ${l.sku}`)),
      h('td', { class: 'num' }, String(l.quantity)),
      h('td', { class: 'num' }, money(l.line_total))))));
}

export function statusBadge(order) {
  return h('span', { class: `badge badge--${order.status}` }, orderStatus(order.status));
}

function render(order, { placed }) {
  const payment = paymentFor(order, store.get().payments?.[order.id]);
  const paid = ['paid', 'fulfilled'].includes(order.status);
  const heading = placed && paid ? 'Thank you for your order!' : `Order #${order.number}`;
  const waiting = placed && order.status === 'pending_payment' && ['pending', 'processing'].includes(order.payment_status);
  return h('div', { class: 'order-page' },
    h('h1', { tabindex: '-1' }, heading),
    placed && paid ? h('div', { class: 'alert alert--success', role: 'status' },
      h('p', { class: 'alert__title' }, `Order #${order.number} is confirmed and paid.`),
      h('p', {}, 'You can come back to this page from Orders at any time. Please quote the order number if you contact us.')) : null,
    waiting ? h('p', { class: 'alert alert--info', role: 'status' }, 'Waiting for the payment to be confirmed…') : null,
    order.status === 'pending_payment' && !waiting ? h('div', { class: 'alert alert--warning' },
      h('p', { class: 'alert__title' }, 'This order is waiting for payment.'),
      order.expires_at ? h('p', {}, `It is held for you until ${dateTime(order.expires_at)}.`) : null,
      payment ? h('p', {}, h('a', { class: 'button button--primary', href: `#/pay/${encodeURIComponent(order.id)}` }, 'Pay now')) : null) : null,
    h('div', { class: 'order-layout' },
      h('section', { class: 'panel', 'aria-labelledby': 'order-status-title' },
        h('h2', { id: 'order-status-title' }, 'Status'),
        h('p', { class: 'status-sentence' }, orderStatusSentence(order.status)),
        h('dl', { class: 'facts' },
          h('div', {}, h('dt', {}, 'Order'), h('dd', {}, `#${order.number}`)),
          h('div', {}, h('dt', {}, 'Status'), h('dd', { 'data-status': order.status }, statusBadge(order))),
          h('div', {}, h('dt', {}, 'Payment'), h('dd', { 'data-payment-status': order.payment_status }, paymentStatus(order.payment_status))),
          h('div', {}, h('dt', {}, 'Delivery'), h('dd', {}, fulfilmentStatus(order.fulfillment_status))),
          h('div', {}, h('dt', {}, 'Placed'), h('dd', {}, dateTime(order.created_at))),
          h('div', {}, h('dt', {}, 'Email'), h('dd', {}, order.email))),
        (order.fulfillments ?? []).length ? h('div', {},
          h('h3', {}, 'Shipments'),
          h('ul', { class: 'plain' }, order.fulfillments.map((f) => {
            const url = f.tracking_url && safeUrl(f.tracking_url);
            return h('li', {},
              [f.carrier, f.tracking_number].filter(Boolean).join(' ') || 'Shipped',
              url ? [' — ', h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, 'Track parcel')] : null,
              f.created_at ? ` (${dateTime(f.created_at)})` : null);
          }))) : null,
        (order.refunds ?? []).length ? h('div', {},
          h('h3', {}, 'Refunds'),
          h('ul', { class: 'plain' }, order.refunds.map((r) => h('li', {}, minus(r.amount), r.reason ? ` — ${r.reason}` : '')))) : null),
      h('section', { class: 'panel', 'aria-labelledby': 'order-items-title' },
        h('h2', { id: 'order-items-title' }, 'Items'),
        orderLines(order),
        totals(order)),
      h('section', { class: 'panel', 'aria-labelledby': 'order-delivery-title' },
        h('h2', { id: 'order-delivery-title' }, 'Delivery'),
        addressBlock(order.shipping_address),
        order.shipping_method ? h('p', {}, order.shipping_method.name) : null)),
    h('p', { class: 'order-page__links' },
      h('a', { href: '#/' }, 'Continue shopping'), ' · ', h('a', { href: '#/orders' }, 'All orders')));
}

export async function orderView({ params, query, isCurrent }) {
  const [id] = params;
  const placed = query.get('placed') === '1';
  const linked = query.get('token');
  let order;
  try {
    order = await fetchOrder(id, linked ?? undefined);
    if (linked) {
      // Kept like a token from checkout, and taken out of the address bar and its history.
      store.rememberOrder(order, linked);
      window.history.replaceState(null, '', `#/order/${encodeURIComponent(id)}`);
    }
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 401)) {
      return {
        title: 'Order not found',
        node: h('section', { class: 'page' },
          h('h1', { tabindex: '-1' }, 'Order not found'),
          h('p', {}, "We couldn't find this order. An order can be seen in the browser it was placed in, or by the signed-in customer who placed it."),
          h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' · ', h('a', { href: '#/orders' }, 'Your orders'))),
      };
    }
    throw e;
  }
  const node = h('div', {}, render(order, { placed }));
  // After a real Stripe payment the webhook may take a moment: look again for a little while.
  if (placed && order.status === 'pending_payment' && ['pending', 'processing'].includes(order.payment_status)) {
    (async () => {
      for (let i = 0; i < 20 && isCurrent(); i += 1) {
        await new Promise((r) => setTimeout(r, 1500));
        try {
          order = await fetchOrder(id);
        } catch (e) {
          if (isCurrent()) replace(node, errorBox(e));
          return;
        }
        if (!isCurrent()) return;
        if (order.status !== 'pending_payment' || order.payment_status === 'failed') {
          replace(node, render(order, { placed }));
          announce(orderStatus(order.status));
          return;
        }
      }
    })();
  }
  return { title: placed ? 'Order confirmed' : `Order #${order.number}`, node };
}
