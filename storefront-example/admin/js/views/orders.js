// Orders: the list (status filter, search by number or e-mail) and one order with its payment,
// stock and flags, and what the merchant does to it: fulfil, refund (with restock), cancel.

import { h, replace, field, selectField, formValues, announce } from '../../../js/dom.js';
import { newIdempotencyKey } from '../../../js/api.js';
import { money, dateTime, orderStatus, paymentStatus, fulfilmentStatus, country } from '../../../js/format.js';
import * as admin from '../api.js';
import { showProblem, problemBox, toMinor, fromMinor } from '../ui.js';

const STATUSES = [['', 'Any status'], ['pending_payment', 'Awaiting payment'], ['paid', 'Paid'], ['fulfilled', 'Shipped'], ['expired', 'Expired'], ['cancelled', 'Cancelled']];

/** What each flag means and what the merchant should do about it. */
const FLAGS = {
  payment_mismatch: 'Payment mismatch: the amount or currency paid differs from the order. Check the payment with the provider before shipping.',
  paid_after_close: 'Paid after close: the payment arrived after the order expired or was cancelled. Refund it, or honour the order.',
  email_refused: 'E-mail refused: the shopper\'s address refused the order e-mails. Contact them another way.',
  disputed: 'Disputed: the customer disputed the payment (a chargeback). Answer it with the payment provider before shipping anything.',
};

const badge = (status) => h('span', { class: `badge badge--${status}` }, orderStatus(status));

/** The orders the search asks for: by e-mail through the API, by number by reading the pages. */
async function findOrders({ q, status, cursor }) {
  if (q.includes('@')) return admin.listOrders({ email: q, status, cursor, limit: 50 });
  // Numbers are Crockford base 32 (older orders: digits), which reads the same in either case.
  const number = q.replace(/^#/, '').trim().toUpperCase();
  if (!number) return admin.listOrders({ status, cursor, limit: 50 });
  // The API filters by e-mail and status only: a number is looked for in the newest 1,000 orders.
  let next = cursor || undefined;
  for (let page = 0; page < 10; page += 1) {
    const { items, next_cursor: more } = await admin.listOrders({ status, cursor: next, limit: 100 });
    const hit = items.filter((o) => o.number === number);
    if (hit.length || !more) return { items: hit, next_cursor: null };
    next = more;
  }
  return { items: [], next_cursor: null };
}

export async function ordersView({ query, navigate }) {
  const q = (query.get('q') ?? '').trim();
  const status = query.get('status') ?? '';
  const cursor = query.get('cursor') ?? '';
  const { items, next_cursor: nextCursor } = await findOrders({ q, status, cursor });
  const form = h('form', { class: 'toolbar', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const v = formValues(form);
    navigate(`#/orders?${new URLSearchParams({ q: v.q ?? '', status: v.status ?? '' })}`);
  } },
  field({ label: 'Order number or e-mail', name: 'q', type: 'search', value: q }),
  selectField({ label: 'Status', name: 'status', options: STATUSES, value: status }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Search'));
  const rows = items.map((o) => h('tr', {},
    h('td', {}, h('a', { href: `#/orders/${encodeURIComponent(o.id)}` }, `#${o.number}`)),
    h('td', {}, dateTime(o.created_at)),
    h('td', {}, o.email ?? '—'),
    h('td', {}, badge(o.status)),
    h('td', {}, paymentStatus(o.payment_status), ' · ', fulfilmentStatus(o.fulfillment_status)),
    h('td', { class: 'num' }, money(o.totals?.total)),
    h('td', {}, (o.flags ?? []).map((f) => h('span', { class: 'flag' }, f)))));
  return [
    h('h1', {}, 'Orders'),
    form,
    items.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, ['Order', 'Placed', 'E-mail', 'Status', 'Payment · shipping', 'Total', 'Flags'].map((t) => h('th', { scope: 'col', class: t === 'Total' ? 'num' : null }, t)))),
        h('tbody', {}, rows)))
      : h('p', { class: 'empty' }, q || status ? 'No orders match.' : 'No orders yet.'),
    nextCursor ? h('p', { class: 'paging' }, h('a', { href: `#/orders?${new URLSearchParams({ q, status, cursor: nextCursor })}` }, 'Next page →')) : null,
  ];
}

/** Units of each SKU already shipped. */
function shipped(order) {
  const units = {};
  for (const f of order.fulfillments ?? []) for (const [sku, qty] of f.lines) units[sku] = (units[sku] ?? 0) + qty;
  return units;
}

/** Turns `lines[k]…` of the body into the name of the form input the k-th sent line came from. */
function renamed(error, sent, prefix) {
  const errors = (error?.errors ?? []).map((e) => {
    const m = new RegExp(`^${prefix}\\[(\\d+)\\](.*)$`).exec(e.field ?? '');
    return m && sent[Number(m[1])] ? { ...e, field: sent[Number(m[1])] } : e;
  });
  return { ...error, errors };
}

export async function orderView(context, id) {
  const order = await admin.getOrder(id);
  const root = h('div', {});
  draw(root, order, context);
  return root;
}

function draw(root, order, context, notice = null) {
  const left = shipped(order);
  const currency = order.currency;
  const refundable = (order.totals?.total?.amount ?? 0) - (order.totals?.refunded?.amount ?? 0);
  const redraw = (next, message) => {
    draw(root, next, context, message);
    announce(message);
  };
  const address = order.shipping_address;
  replace(root,
    h('h1', {}, `Order #${order.number}`),
    notice ? h('p', { class: 'alert alert--success', role: 'status' }, notice) : null,
    (order.flags ?? []).length
      ? h('div', { class: 'flags', role: 'alert' }, h('strong', {}, 'Needs attention'),
        h('ul', {}, order.flags.map((f) => h('li', { 'data-flag': f }, h('span', { class: 'flag' }, f), ' ', FLAGS[f] ?? f))))
      : null,
    h('dl', { class: 'admin-facts' },
      h('dt', {}, 'Status'), h('dd', {}, badge(order.status)),
      h('dt', {}, 'Payment'), h('dd', {}, paymentStatus(order.payment_status), order.payment?.payment_intent_id ? ` (${order.payment.payment_intent_id})` : '',
        order.payment_error ? ` — last decline: ${order.payment_error}` : ''),
      h('dt', {}, 'Shipping'), h('dd', {}, fulfilmentStatus(order.fulfillment_status), order.shipping_method ? ` · ${order.shipping_method.name}` : ''),
      h('dt', {}, 'Stock'), h('dd', { 'data-stock': order.stock }, order.stock),
      h('dt', {}, 'Customer'), h('dd', {}, order.email ?? '—', order.customer_id ? ` (${order.customer_id})` : ' (guest)'),
      h('dt', {}, 'Ship to'), h('dd', {}, address ? [address.name, address.line1, address.line2, `${address.postal_code} ${address.city}`, address.region, country(address.country)].filter(Boolean).join(', ') : '—'),
      h('dt', {}, 'Placed'), h('dd', {}, dateTime(order.created_at)),
      order.discount_code ? [h('dt', {}, 'Discount'), h('dd', {}, order.discount_code)] : null),
    h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
      h('caption', { class: 'visually-hidden' }, 'Lines'),
      h('thead', {}, h('tr', {}, ['Item', 'SKU', 'Ordered', 'Shipped', 'Unit price', 'Total'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, order.lines.map((l) => h('tr', {},
        h('td', {}, l.title), h('td', {}, l.sku), h('td', { class: 'num' }, l.quantity), h('td', { class: 'num' }, left[l.sku] ?? 0),
        h('td', { class: 'num' }, money(l.unit_price)), h('td', { class: 'num' }, money(l.line_total))))))),
    h('dl', { class: 'admin-facts admin-facts--totals' },
      ...['subtotal', 'discount', 'shipping', 'tax', 'total', 'refunded'].flatMap((k) => [h('dt', {}, k[0].toUpperCase() + k.slice(1)), h('dd', { 'data-total': k }, money(order.totals?.[k]))])),
    (order.fulfillments ?? []).length ? [h('h2', {}, 'Shipments'), h('ul', {}, order.fulfillments.map((f) => h('li', {},
      `${f.lines.map(([sku, q]) => `${q} × ${sku}`).join(', ')} — ${f.carrier ?? 'no carrier'} ${f.tracking_number ?? ''} (${dateTime(f.created_at)})`)))] : null,
    (order.refunds ?? []).length ? [h('h2', {}, 'Refunds'), h('ul', {}, order.refunds.map((r) => h('li', {},
      `${money(r.amount)} ${r.state}${r.reason ? ` — ${r.reason}` : ''}${r.restock?.length ? `; restocked ${r.restock.map(([sku, q]) => `${q} × ${sku}`).join(', ')}` : ''}`)))] : null,
    h('div', { class: 'sections sections--two' },
      order.status === 'paid' ? fulfilForm(order, left, redraw) : null,
      ['paid', 'fulfilled'].includes(order.status) && refundable > 0 ? refundForm(order, refundable, currency, redraw) : null,
      ['pending_payment', 'paid'].includes(order.status) ? cancelForm(order, redraw) : null));
}

function fulfilForm(order, left, redraw) {
  const form = h('form', { class: 'admin-form', 'aria-labelledby': 'fulfil-title', onsubmit: async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const sent = [];
    const lines = [];
    order.lines.forEach((l, i) => {
      const quantity = Number(v[`lines[${i}].quantity`] || 0);
      if (quantity > 0) {
        sent.push(`lines[${i}].quantity`);
        lines.push({ sku: l.sku, quantity });
      }
    });
    try {
      const next = await admin.fulfil(order.id, {
        lines, carrier: v.carrier || null, tracking_number: v.tracking_number || null, tracking_url: v.tracking_url || null,
      });
      redraw(next, `Shipped ${lines.reduce((n, l) => n + l.quantity, 0)} units${v.carrier ? ` with ${v.carrier}` : ''}.`);
    } catch (error) {
      showProblem(form, renamed(error, sent, 'lines'));
    }
  } },
  h('h2', { id: 'fulfil-title' }, 'Fulfil'),
  order.lines.map((l, i) => field({ label: `Units of ${l.sku} to ship`, name: `lines[${i}].quantity`, type: 'number', value: String(l.quantity - (left[l.sku] ?? 0)), attrs: { min: '0' } })),
  field({ label: 'Carrier', name: 'carrier' }),
  field({ label: 'Tracking number', name: 'tracking_number' }),
  field({ label: 'Tracking URL', name: 'tracking_url', type: 'url' }),
  h('button', { class: 'button button--primary', type: 'submit' }, 'Mark as shipped'));
  return form;
}

function refundForm(order, refundable, currency, redraw) {
  // The same key while the merchant retries one refund, so a retry after a timeout is not a second refund.
  let key = newIdempotencyKey();
  const form = h('form', { class: 'admin-form', 'aria-labelledby': 'refund-title', onsubmit: async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const amount = toMinor(v.amount ?? '', currency);
    if (amount === null) {
      showProblem(form, { code: 'validation_failed', detail: 'the amount is not valid', errors: [{ field: 'amount', message: `an amount like ${fromMinor(refundable, currency)}` }] });
      return;
    }
    const sent = [];
    const restock = [];
    order.lines.forEach((l, i) => {
      const quantity = Number(v[`restock[${i}].quantity`] || 0);
      if (quantity > 0) {
        sent.push(`restock[${i}].quantity`);
        restock.push({ sku: l.sku, quantity });
      }
    });
    try {
      const { order: next, refund } = await admin.refund(order.id, { amount: { amount, currency }, reason: v.reason || null, restock }, key);
      key = newIdempotencyKey();
      redraw(next, `Refunded ${money(refund.amount)}${restock.length ? `; ${restock.reduce((n, r) => n + r.quantity, 0)} back in stock` : ''}.`);
    } catch (error) {
      if (error?.status && error.status < 500 && error.code !== 'request_in_progress') key = newIdempotencyKey();
      showProblem(form, renamed(error, sent, 'restock'));
    }
  } },
  h('h2', { id: 'refund-title' }, 'Refund'),
  field({ label: `Amount (${currency})`, name: 'amount', value: fromMinor(refundable, currency), inputmode: 'decimal', required: true, hint: `At most ${money({ amount: refundable, currency })}.` }),
  field({ label: 'Reason', name: 'reason' }),
  h('fieldset', {}, h('legend', {}, 'Put back in stock'),
    order.lines.map((l, i) => field({ label: `Units of ${l.sku} to restock`, name: `restock[${i}].quantity`, type: 'number', value: '0', attrs: { min: '0', max: String(l.quantity) } }))),
  h('button', { class: 'button button--primary', type: 'submit' }, 'Refund'));
  return form;
}

function cancelForm(order, redraw) {
  const form = h('form', { class: 'admin-form', 'aria-labelledby': 'cancel-title' });
  const ask = () => replace(form,
    h('h2', { id: 'cancel-title' }, 'Cancel'),
    h('p', {}, order.status === 'paid' ? 'Cancelling refunds the whole payment and puts every item back in stock.' : 'Cancelling releases the reserved stock; the customer can no longer pay.'),
    h('button', { class: 'button button--secondary', type: 'button', onclick: confirm }, 'Cancel this order…'));
  const confirm = () => replace(form,
    h('h2', { id: 'cancel-title' }, 'Cancel'),
    h('p', { role: 'status' }, `Cancel order #${order.number}? This cannot be undone.`),
    h('p', { class: 'actions' },
      h('button', { class: 'button button--primary', type: 'button', onclick: async () => {
        try {
          redraw(await admin.cancelOrder(order.id), `Order #${order.number} cancelled.`);
        } catch (error) {
          form.append(problemBox(error));
        }
      } }, `Yes, cancel order #${order.number}`),
      h('button', { class: 'button button--secondary', type: 'button', onclick: ask }, 'Keep it')));
  ask();
  return form;
}
