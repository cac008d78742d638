// Sign-in: with the store's OpenID provider (config.js), one button to its sign-in page; locally
// (nanoshop serve), the dev token: customer id + e-mail → POST /dev/token. Signing in claims this
// browser's guest cart. Signed in, the page offers to sign out.

import { ApiError } from '../api.js';
import { h, replace, field, announce, showFieldErrors } from '../dom.js';
import { errorBox, explain } from '../errors.js';
import * as session from '../session.js';

function nextHash(query) {
  const next = query.get('next') ?? '';
  // Only a path inside this storefront.
  return /^\/[\w\-/?=&%.]*$/.test(next) ? `#${next}` : '#/';
}

/** Why the last return from the provider did not sign the shopper in, shown once. */
let providerProblem = null;
/** @param {unknown} error */
export function setSignInProblem(error) {
  providerProblem = error;
}

/** The provider's refusal (`error_description`) or a failed check, in words. */
function providerProblemBox(error) {
  const said = error?.cause?.error_description ?? error?.error_description ?? error?.message ?? '';
  return errorBox(new ApiError({ code: 'signin_failed', detail: `Signing in did not work${said ? ` (${said})` : ''}. Please try again.` }));
}

function providerSignIn(query) {
  const feedback = h('div');
  if (providerProblem) {
    replace(feedback, providerProblemBox(providerProblem));
    providerProblem = null;
  }
  const button = h('button', { type: 'button', class: 'button button--primary button--block', onclick: async () => {
    button.disabled = true;
    button.textContent = 'Going to sign-in…';
    try {
      await session.signInWithProvider(nextHash(query));
    } catch (e) {
      replace(feedback, errorBox(e?.name === 'ApiError' ? e : new ApiError({ code: 'network_error', detail: String(e?.message ?? e) })));
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  } }, 'Sign in');
  return {
    title: 'Sign in',
    node: h('section', { class: 'page page--narrow' },
      h('h1', { tabindex: '-1' }, 'Sign in'),
      h('div', { class: 'panel' },
        h('p', { class: 'hint' }, "You sign in on the store's sign-in page and come straight back. Your cart comes with you."),
        feedback,
        button)),
  };
}

export async function signInView({ query, navigate, isCurrent }) {
  const current = session.current();
  if (current) {
    return {
      title: 'Your account',
      node: h('section', { class: 'page page--narrow' },
        h('h1', { tabindex: '-1' }, 'Your account'),
        h('div', { class: 'panel' },
          h('p', {}, `Signed in as ${current.sub}${current.email ? ` (${current.email})` : ''}.`),
          h('p', { class: 'actions' },
            h('a', { class: 'button button--secondary', href: '#/orders' }, 'Your orders'),
            h('button', { type: 'button', class: 'button button--secondary', onclick: async () => {
              // With a provider, its session ends too: the browser goes there and comes back.
              await session.signOut({ everywhere: true });
              announce('Signed out.');
              navigate('#/');
            } }, 'Sign out')))),
    };
  }
  if (session.usesProvider) return providerSignIn(query);
  const feedback = h('div');
  const submit = h('button', { type: 'submit', class: 'button button--primary button--block' }, 'Sign in');
  const form = h('form', { class: 'signin-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    replace(feedback);
    const sub = form.elements.namedItem('sub').value.trim();
    const email = form.elements.namedItem('email').value.trim();
    const errors = {};
    if (!sub) errors.sub = 'Enter a customer id, e.g. cust_ada.';
    if (email && !form.elements.namedItem('email').checkValidity()) errors.email = 'Enter an e-mail address like ada@example.com.';
    const first = showFieldErrors(form, errors);
    if (first) {
      first.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const cart = await session.devSignIn(sub, email);
      if (!isCurrent()) return;
      const count = (cart?.items ?? []).reduce((n, l) => n + l.quantity, 0);
      announce(`Signed in as ${sub}.${count ? ` Your cart has ${count} item${count === 1 ? '' : 's'}.` : ''}`);
      navigate(nextHash(query));
    } catch (e) {
      if (!isCurrent()) return;
      const box = e instanceof ApiError && e.status === 404
        ? errorBox(new ApiError({ code: 'no_dev_signin', detail: 'Sign-in with a development token only works on a local nanoshop (nanoshop serve). A deployed store signs customers in with its own identity provider.' }))
        : errorBox(e);
      showFieldErrors(form, explain(e).fields);
      replace(feedback, box);
      box.focus();
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  } },
  field({ label: 'Customer id', name: 'sub', required: true, autocomplete: 'username', hint: 'Any id you like, e.g. cust_ada. The same id finds the same orders again.', attrs: { maxlength: '128', spellcheck: 'false', autocapitalize: 'off' } }),
  field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email' }),
  feedback,
  submit);
  return {
    title: 'Sign in',
    node: h('section', { class: 'page page--narrow' },
      h('h1', { tabindex: '-1' }, 'Sign in'),
      h('div', { class: 'panel' },
        h('p', { class: 'hint' }, 'Local development sign-in: no password, the local store issues a token for the customer id you enter. Your cart comes with you.'),
        form)),
  };
}
