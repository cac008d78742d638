// Payment of an order placed at checkout. Locally (publishable key `pk_local`) a simple card form
// drives the built-in simulator through POST /dev/payments/{id}/confirm; with a real Stripe key,
// Stripe's Payment Element (js/stripe.js).

import { api, getOrder, ApiError } from '../api.js';
import { h, replace, field, showFieldErrors } from '../dom.js';
import { errorBox } from '../errors.js';
import { money, time } from '../format.js';
import * as store from '../state.js';
import { isLocalKey, mountPaymentElement, paymentFor } from '../stripe.js';

async function freshOrder(id) {
  try {
    return await getOrder(id, store.orderToken(id) ?? undefined);
  } catch {
    return null; // The order page says what went wrong; paying does not need it.
  }
}

export async function payView({ params, navigate, isCurrent }) {
  const [orderId] = params;
  const saved = (store.get().orders ?? []).find((o) => o.id === orderId);
  const order = await freshOrder(orderId);
  const payment = paymentFor(order, store.get().payments?.[orderId]);
  if (order && order.status !== 'pending_payment') {
    store.forgetPayment(orderId);
    navigate(`#/order/${encodeURIComponent(orderId)}`, { replace: true });
    return null;
  }
  if (!payment) {
    return {
      title: 'Payment',
      node: h('section', { class: 'page' },
        h('h1', { tabindex: '-1' }, 'Payment'),
        h('p', {}, "This browser doesn't have the payment details of this order. "),
        h('p', {}, h('a', { href: `#/order/${encodeURIComponent(orderId)}` }, 'See the order'))),
    };
  }
  const total = order?.totals?.total ?? saved?.total;
  const number = order?.number ?? saved?.number;
  const expires = order?.expires_at ?? saved?.expires_at;
  const feedback = h('div', { 'data-slot': 'payment-error' });
  const submit = h('button', { type: 'submit', class: 'button button--primary button--block' }, total ? `Pay ${money(total)}` : 'Pay');
  const returnUrl = `${window.location.origin}${window.location.pathname}#/order/${encodeURIComponent(orderId)}?placed=1`;

  function declined(message) {
    const box = h('div', { class: 'alert alert--error', role: 'alert', tabindex: '-1', 'data-code': 'card_declined' },
      h('p', { class: 'alert__title' }, message || 'Your card was declined.'),
      h('p', {}, 'Nothing was charged. Please try another card — your order is saved.'));
    replace(feedback, box);
    box.focus();
  }

  let form;
  if (isLocalKey(payment.publishable_key)) {
    const card = field({
      label: 'Card number', name: 'card', required: true, autocomplete: 'cc-number', inputmode: 'numeric',
      hint: 'Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined. No real card is charged.',
      attrs: { maxlength: '23', spellcheck: 'false' },
    });
    form = h('form', { class: 'pay-form', novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      replace(feedback);
      const value = form.elements.namedItem('card').value.replace(/[\s-]/g, '');
      if (!/^\d{12,19}$/.test(value)) {
        showFieldErrors(form, { card: 'Enter the card number: 12 to 19 digits.' }).focus();
        return;
      }
      showFieldErrors(form, {});
      submit.disabled = true;
      submit.textContent = 'Paying…';
      try {
        const result = await api('POST', `/dev/payments/${encodeURIComponent(payment.payment_intent_id)}/confirm`, { body: { card: value }, auth: false });
        if (!isCurrent()) return;
        if (result.status === 'succeeded') {
          store.forgetPayment(orderId);
          navigate(`#/order/${encodeURIComponent(orderId)}?placed=1`);
          return;
        }
        declined(result.message);
      } catch (e) {
        if (!isCurrent()) return;
        if (e instanceof ApiError && e.code === 'payment_not_confirmable') {
          store.forgetPayment(orderId);
          navigate(`#/order/${encodeURIComponent(orderId)}`);
          return;
        }
        const box = errorBox(e);
        replace(feedback, box);
        box.focus();
      } finally {
        submit.disabled = false;
        submit.textContent = total ? `Pay ${money(total)}` : 'Pay';
      }
    } }, card, feedback, submit);
  } else {
    const mount = h('div', { class: 'payment-element' }, h('p', { class: 'loading', role: 'status' }, 'Loading the secure payment form…'));
    let element = null;
    form = h('form', { class: 'pay-form', onsubmit: async (event) => {
      event.preventDefault();
      if (!element) return;
      submit.disabled = true;
      const { error } = await element.confirm();
      submit.disabled = false;
      if (error && isCurrent()) declined(error);
    } }, mount, feedback, submit);
    mountPaymentElement(mount, { publishableKey: payment.publishable_key, clientSecret: payment.client_secret, returnUrl })
      .then((el) => {
        element = el;
        mount.querySelector('.loading')?.remove();
      })
      .catch((e) => {
        replace(mount);
        replace(feedback, errorBox(new ApiError({ code: 'payment_form', detail: `The payment form could not be loaded (${e.message}). Check your connection and reload the page.` })));
      });
  }

  return {
    title: 'Payment',
    node: h('section', { class: 'page page--narrow' },
      h('h1', { tabindex: '-1' }, 'Payment'),
      h('div', { class: 'panel' },
        h('p', { class: 'pay-summary' }, number ? `Order #${number}` : 'Your order', total ? h('strong', {}, ` — ${money(total)} to pay`) : null),
        expires ? h('p', { class: 'hint' }, `Your items are held for you until ${time(expires)}.`) : null,
        form),
      h('p', {}, h('a', { href: `#/order/${encodeURIComponent(orderId)}` }, 'See the order'))),
  };
}
