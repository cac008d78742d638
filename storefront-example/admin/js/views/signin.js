// Sign-in: with the store's OpenID provider (config.js), one button to its sign-in page, for
// members of its admin group; otherwise locally the one-click admin token of `nanoshop serve`, or a
// pasted admin token.

import { h, field, formValues } from '../../../js/dom.js';
import * as session from '../session.js';
import { problemBox, showProblem } from '../ui.js';

/** Why the last return from the provider did not sign the merchant in, shown once. */
let providerProblem = null;
/** @param {unknown} error */
export function setSignInProblem(error) {
  providerProblem = error;
}

function providerProblemBox(error) {
  if (error instanceof session.NotAnAdmin) {
    return h('p', { class: 'alert alert--error', role: 'alert' },
      `You signed in as ${error.who}, who is not in the store's admin group. Sign in as a merchant, or ask to be added to the group "admin".`);
  }
  const said = error?.cause?.error_description ?? error?.error_description ?? error?.message ?? '';
  return problemBox({ code: 'signin_failed', detail: `Signing in did not work${said ? ` (${said})` : ''}. Please try again.`, errors: [] });
}

function providerSignIn() {
  const status = h('div', {});
  // Turned away as no admin: the provider must ask who signs in, not sign the same person in again.
  const asSomeoneElse = providerProblem instanceof session.NotAnAdmin;
  if (providerProblem) {
    status.replaceChildren(providerProblemBox(providerProblem));
    providerProblem = null;
  }
  const form = h('form', { class: 'admin-form', onsubmit: async (event) => {
    event.preventDefault();
    try {
      await session.signInWithProvider('#/orders', { asSomeoneElse });
    } catch (error) {
      status.replaceChildren(problemBox({ code: 'network_error', detail: String(error?.message ?? error), errors: [] }));
    }
  } },
  h('p', {}, "Sign in on the store's sign-in page, as a member of its admin group."),
  status,
  h('button', { class: 'button button--primary', type: 'submit' }, 'Sign in'));
  return [h('h1', {}, 'Sign in to the console'), form];
}

export function signInView({ navigate }) {
  if (session.usesProvider) return providerSignIn();
  const status = h('div', {});
  const local = h('form', { class: 'admin-form', onsubmit: async (event) => {
    event.preventDefault();
    try {
      await session.localSignIn();
      navigate('#/orders');
    } catch (error) {
      status.replaceChildren(error?.status === 404
        ? h('p', { class: 'alert alert--info', role: 'status' }, 'This store has no local sign-in (it is deployed, or served with --public). Paste an admin token below.')
        : problemBox(error));
    }
  } },
  h('h2', {}, 'On this computer (nanoshop serve)'),
  h('p', {}, 'The local server mints an admin token for anyone on this machine.'),
  status,
  h('button', { class: 'button button--primary', type: 'submit' }, 'Sign in as the local admin'));

  const paste = h('form', { class: 'admin-form', onsubmit: (event) => {
    event.preventDefault();
    const { token } = formValues(paste);
    if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token ?? '')) {
      showProblem(paste, { code: 'validation_failed', detail: 'that is not a token', errors: [{ field: 'token', message: 'paste the whole JWT (three parts separated by dots)' }] });
      return;
    }
    session.signIn(token);
    navigate('#/orders');
  } },
  h('h2', {}, 'A deployed store'),
  h('p', { class: 'alert alert--info' }, "Set the store's OpenID provider in config.js (OIDC_ISSUER, OIDC_CLIENT_ID) to sign in through it. Until then, paste an admin JWT from the provider (a user in the admin group)."),
  field({ label: 'Admin token (JWT)', name: 'token', required: true, autocomplete: 'off' }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Use this token'));

  return [h('h1', {}, 'Sign in to the console'), h('div', { class: 'sections sections--two' }, local, paste)];
}
