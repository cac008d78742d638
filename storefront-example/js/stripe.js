// Real payments: Stripe's Payment Element, used when checkout returns a real publishable key
// (`pk_test_…` / `pk_live_…`). Stripe.js is loaded from js.stripe.com only then — never in local
// mode — as Stripe requires (it may not be bundled or self-hosted).
//
// The flow: mount the Payment Element for the PaymentIntent's client_secret; on submit,
// stripe.confirmPayment() collects the card (and 3-D Secure if the bank asks) and then sends the
// shopper to `return_url`, the order page, which waits for the webhook to mark the order paid.
// Not covered by the offline tests (they cannot reach Stripe).

let loading = null;

function loadStripeJs() {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = 'https://js.stripe.com/v3/';
    script.async = true;
    script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js did not load')));
    script.onerror = () => {
      loading = null;
      reject(new Error('Stripe.js could not be loaded'));
    };
    document.head.append(script);
  });
  return loading;
}

/**
 * Mounts the Payment Element into `container`. Returns `confirm()`, which resolves to
 * {error: message} when the payment could not be confirmed (the page stays), and otherwise
 * navigates away to `returnUrl`.
 */
export async function mountPaymentElement(container, { publishableKey, clientSecret, returnUrl }) {
  const Stripe = await loadStripeJs();
  const stripe = Stripe(publishableKey);
  const elements = stripe.elements({ clientSecret });
  const element = elements.create('payment', { layout: 'tabs' });
  element.mount(container);
  return {
    async confirm() {
      const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url: returnUrl } });
      return { error: error?.message ?? 'The payment could not be completed.' };
    },
  };
}

export function isLocalKey(key) {
  return !key || key === 'pk_local' || key.startsWith('pk_local');
}

/**
 * How to pay `order` from here: what this browser kept from checkout, or else what the order itself
 * carries while it waits for payment (`payment.client_secret` and the `publishable_key` it goes
 * with), so a shopper can resume paying in another tab or on another device. `null` when there is
 * nothing to pay with.
 */
export function paymentFor(order, saved) {
  if (saved) return saved;
  const { payment_intent_id: intent, client_secret: secret, publishable_key: key } = order?.payment ?? {};
  if (order?.status !== 'pending_payment' || !intent || !secret || !key) return null;
  return { payment_intent_id: intent, client_secret: secret, publishable_key: key };
}
