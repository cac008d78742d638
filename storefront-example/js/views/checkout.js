// Checkout: e-mail, delivery address and option → POST /checkout → the payment page. A signed-in
// customer picks a saved delivery address (filling the form; sent as `shipping_address_id` while
// unchanged) and a billing address (`billing_address_id`; by default the delivery address).

import { postCheckout, settings, ApiError, newIdempotencyKey } from '../api.js';
import * as account from '../account.js';
import * as cart from '../cart.js';
import { h, replace, field, announce, showFieldErrors } from '../dom.js';
import { errorBox, explain } from '../errors.js';
import * as store from '../state.js';
import { addressFieldset, readAddress, addressComplete, sameAddress, shippingOptions, totals, lineSummary } from './parts.js';

// One Idempotency-Key per checkout attempt: a retry of the same request after a network failure
// or a 5xx reuses it (so it can never create two orders); a final answer (4xx) or a changed
// request gets a new one, since the API replays the first answer for a reused key.
let attempt = { body: null, key: null };
function keyFor(body) {
  const text = JSON.stringify(body);
  if (attempt.body !== text) attempt = { body: text, key: newIdempotencyKey() };
  return attempt.key;
}

/**
 * Radio buttons of the saved addresses and "A new address"; `onpick(saved | null)`. None without
 * saved addresses.
 */
function savedAddressChoice(book, chosen, onpick) {
  if (!book.length) return null;
  const name = 'saved_address';
  const option = (value, label, saved) => {
    const id = `${name}-${value || 'new'}`;
    return h('div', { class: 'choice' },
      h('input', { type: 'radio', id, name, value, checked: (chosen?.id ?? '') === value, onchange: () => onpick(saved) }),
      h('label', { for: id }, label));
  };
  return h('fieldset', { class: 'saved-addresses' },
    h('legend', {}, 'Deliver to'),
    h('div', { class: 'choices' },
      book.map((saved) => option(saved.id, account.describe(saved), saved)),
      option('', 'A new address', null)));
}

/** The billing address: the delivery address, or a saved one. None without saved addresses. */
function billingChoice(book) {
  if (!book.length) return null;
  const preferred = book.find((saved) => saved.default_billing && !saved.default_shipping);
  return h('div', { class: 'field', 'data-field': 'billing_address_id' },
    h('label', { for: 'billing-address' }, 'Billing address'),
    h('select', { id: 'billing-address', name: 'billing_address_id' },
      h('option', { value: '', selected: !preferred }, 'Same as the delivery address'),
      book.map((saved) => h('option', { value: saved.id, selected: saved === preferred }, account.describe(saved)))));
}

export async function checkoutView({ navigate, isCurrent }) {
  const [current, shop, book] = await Promise.all([
    cart.load(), settings(), store.get().session ? account.addressesForCheckout() : [],
  ]);
  if (!current || !current.items.length) {
    return {
      title: 'Checkout',
      node: h('section', { class: 'page' },
        h('h1', { tabindex: '-1' }, 'Checkout'),
        h('div', { class: 'empty' }, h('p', {}, 'Your cart is empty, so there is nothing to check out.'),
          h('p', {}, h('a', { class: 'button button--primary', href: '#/' }, 'Start shopping')))),
    };
  }
  const s = store.get();
  let c = current;
  const draft = s.draft ?? {};
  const email = field({
    label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'email',
    value: s.session?.email ?? draft.email ?? '', hint: 'For your receipt and questions about this order.',
  });
  const formError = h('div', { 'data-slot': 'form-error' });
  const shippingError = h('div', { 'data-slot': 'shipping-error' });
  const optionsSlot = h('div');
  const summarySlot = h('div');
  const submit = h('button', { type: 'submit', class: 'button button--primary button--block' }, 'Continue to payment');
  let refreshing = null;

  function drawCart() {
    replace(optionsSlot, shippingOptions(c, { required: true, onchoose: (id) => updateShipping(id) }));
    replace(summarySlot, lineSummary(c.items), totals(c));
  }

  /** Keeps the cart's address and option in step with the form, so the totals shown are right. */
  async function updateShipping(method) {
    const address = readAddress(form);
    if (!addressComplete(address)) return;
    if (sameAddress(address, c.shipping_address) && (!method || method === c.shipping_method?.id)) return;
    replace(shippingError);
    const task = (async () => {
      try {
        try {
          c = await cart.setShipping(address, method);
        } catch (e) {
          if (method && e instanceof ApiError && e.code === 'shipping_method_unavailable') c = await cart.setShipping(address);
          else throw e;
        }
        if (!c.shipping_method && c.shipping_options.length === 1) c = await cart.setShipping(address, c.shipping_options[0].id);
        if (!isCurrent()) return;
        showFieldErrors(form, {});
        drawCart();
        announce('Delivery options and totals updated.');
      } catch (e) {
        if (!isCurrent()) return;
        showFieldErrors(form, explain(e).fields);
        replace(shippingError, errorBox(e));
      }
    })();
    refreshing = task;
    await task;
  }

  let timer;
  // The saved address the form shows, if any: the cart's own, else the default delivery address.
  let chosen = book.find((saved) => sameAddress(saved.address, c.shipping_address))
    ?? (c.shipping_address ? null : book.find((saved) => saved.default_shipping) ?? null);
  const address = addressFieldset({ address: chosen?.address ?? c.shipping_address ?? draft.address, countries: shop.countries });
  const saved = savedAddressChoice(book, chosen, (picked) => {
    chosen = picked;
    if (picked) fillAddress(address, picked.address);
    updateShipping(form.elements.namedItem('shipping_method')?.value || c.shipping_method?.id);
  });
  const billing = billingChoice(book);
  address.addEventListener('input', () => {
    // Typed over: no longer the saved address, so it goes to the API as typed.
    if (chosen && !sameAddress(readAddress(form), chosen.address)) {
      chosen = null;
      saved?.querySelector('input[value=""]')?.click();
    }
  });
  address.addEventListener('change', () => {
    clearTimeout(timer);
    timer = setTimeout(() => updateShipping(form.elements.namedItem('shipping_method')?.value || c.shipping_method?.id), 200);
  });

  const form = h('form', { class: 'checkout-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    replace(formError);
    replace(shippingError);
    showFieldErrors(form, {});
    // The browser's own checks first (required fields, e-mail shape), said in our words.
    const missing = {};
    for (const el of form.querySelectorAll('input, select')) {
      if (!el.checkValidity() && el.name && el.name !== 'shipping_method') {
        missing[el.name] = el.validity.valueMissing ? 'Please fill this in.' : 'Please check this.';
      }
    }
    const method = form.elements.namedItem('shipping_method')?.value ?? '';
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing).focus();
      return;
    }
    if (refreshing) await refreshing;
    const addressValue = readAddress(form);
    if (!method) {
      const box = errorBox(new ApiError({ code: 'choose_delivery', detail: 'Please choose a delivery option.' }));
      replace(formError, box);
      box.focus();
      return;
    }
    const billingId = form.elements.namedItem('billing_address_id')?.value || null;
    const body = {
      cart_id: c.id, email: form.elements.namedItem('email').value.trim(),
      ...(chosen && sameAddress(addressValue, chosen.address) ? { shipping_address_id: chosen.id } : { shipping_address: addressValue }),
      ...(billingId ? { billing_address_id: billingId } : {}),
      shipping_method: method,
    };
    store.update({ draft: { email: body.email, address: addressValue } });
    submit.disabled = true;
    submit.textContent = 'Placing your order…';
    try {
      if (!sameAddress(c.shipping_address, addressValue) || c.shipping_method?.id !== method) {
        c = await cart.setShipping(addressValue, method);
      }
      const result = await placeOrder(body);
      store.rememberOrder(result.order, result.order_token);
      store.rememberPayment(result.order.id, result.payment);
      cart.forget();
      attempt = { body: null, key: null };
      navigate(`#/pay/${encodeURIComponent(result.order.id)}`);
    } catch (e) {
      if (!isCurrent()) return;
      if (!(e instanceof ApiError) || (e.status >= 400 && e.status < 500)) attempt = { body: null, key: null };
      const { fields } = explain(e, { lines: c.items });
      showFieldErrors(form, fields);
      const extra = ['out_of_stock', 'items_unavailable', 'invalid_discount', 'quantity_limit', 'cart_empty'].includes(e.code)
        ? h('p', {}, h('a', { href: '#/cart' }, 'Review your cart'), ' to change or remove these items.')
        : null;
      const box = errorBox(e, { lines: c.items, extra });
      replace(formError, box);
      box.focus();
      // Show the cart as it is now (sold-out lines, new totals) beside the explanation.
      if (e instanceof ApiError && e.status === 409) {
        cart.load().then((fresh) => {
          if (fresh && isCurrent()) {
            c = fresh;
            drawCart();
          }
        }).catch(() => {});
      }
      submit.disabled = false;
      submit.textContent = 'Continue to payment';
    }
  } },
  h('fieldset', {}, h('legend', {}, 'Contact'), email),
  saved,
  address,
  billing,
  shippingError,
  optionsSlot,
  formError,
  submit);

  /** Writes `a` into the address fields. */
  function fillAddress(fieldset, a) {
    for (const name of ['name', 'line1', 'line2', 'postal_code', 'city', 'region', 'country', 'phone']) {
      const input = fieldset.querySelector(`[name="${name}"]`);
      if (input) input.value = a[name] ?? '';
    }
    showFieldErrors(form, {});
  }

  async function placeOrder(body) {
    // "Still in flight" means an earlier try of this same request is running: wait and ask again.
    for (let i = 0; ; i += 1) {
      try {
        return await postCheckout(body, keyFor(body), store.get().cart?.token ?? undefined);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'request_in_progress' && i < 5) {
          await new Promise((r) => setTimeout(r, 800));
          continue;
        }
        throw e;
      }
    }
  }

  drawCart();
  // A saved address put into the form: price the cart's delivery for it, as if it had been typed.
  if (chosen && !sameAddress(c.shipping_address, chosen.address)) updateShipping(c.shipping_method?.id);
  return {
    title: 'Checkout',
    node: h('div', { class: 'checkout-page' },
      h('h1', { tabindex: '-1' }, 'Checkout'),
      h('div', { class: 'cart-layout' },
        h('div', { class: 'cart-main panel' }, form),
        h('aside', { class: 'cart-summary panel', 'aria-labelledby': 'checkout-summary' },
          h('h2', { id: 'checkout-summary' }, 'Your order'),
          summarySlot,
          h('p', {}, h('a', { href: '#/cart' }, 'Edit cart'))))),
  };
}
