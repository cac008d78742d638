// Sign-in: locally the one-click admin token of `nanoshop serve`; elsewhere a pasted token until
// the console signs in with the store's OpenID provider (not built yet).

import { h, field, formValues } from '../../../js/dom.js';
import * as session from '../session.js';
import { problemBox, showProblem } from '../ui.js';

export function signInView({ navigate }) {
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
  h('p', { class: 'alert alert--info' }, "Signing in with the store's OpenID provider is not built yet (issue 16). Until then, paste an admin JWT from the provider (a user in the admin group)."),
  field({ label: 'Admin token (JWT)', name: 'token', required: true, autocomplete: 'off' }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Use this token'));

  return [h('h1', {}, 'Sign in to the console'), h('div', { class: 'sections sections--two' }, local, paste)];
}
