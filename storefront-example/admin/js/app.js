// The console's shell: a hash router (any static host serves it), the signed-in state in the
// header, focus on each new screen's heading, and one place that shows a screen that failed.

import { h, replace, announce } from '../../js/dom.js';
import * as session from './session.js';
import { failedScreen } from './ui.js';
import { signInView, setSignInProblem } from './views/signin.js';
import { ordersView, orderView } from './views/orders.js';
import { productsView, productView } from './views/products.js';
import { inventoryView } from './views/inventory.js';
import { discountsView } from './views/discounts.js';
import { categoriesView } from './views/categories.js';
import { settingsView } from './views/settings.js';

const routes = [
  [/^\/?$/, ordersView, 'orders'],
  [/^\/orders$/, ordersView, 'orders'],
  [/^\/orders\/([^/]+)$/, orderView, 'orders'],
  [/^\/products$/, productsView, 'products'],
  [/^\/products\/([^/]+)$/, productView, 'products'],
  [/^\/inventory$/, inventoryView, 'inventory'],
  [/^\/discounts$/, discountsView, 'discounts'],
  [/^\/categories$/, categoriesView, 'categories'],
  [/^\/settings$/, settingsView, 'settings'],
  [/^\/signin$/, signInView, 'signin'],
];

const main = document.getElementById('main');
let generation = 0;

function location() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

export function navigate(hash) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

function renderAccount() {
  const item = document.getElementById('account-nav');
  const who = session.current();
  if (!item) return;
  if (who) {
    replace(item, h('button', { class: 'link-button', type: 'button', onclick: async () => { await session.signOut(); navigate('#/signin'); } }, `Sign out (${who.sub})`));
  } else {
    replace(item, h('a', { href: '#/signin', 'data-nav': 'signin' }, 'Sign in'));
  }
}

async function render() {
  generation += 1;
  const mine = generation;
  const { path, query } = location();
  const match = routes.map(([re, view, section]) => [re.exec(path), view, section]).find(([m]) => m);
  renderAccount();
  if (!session.current() && path !== '/signin') {
    navigate('#/signin');
    return;
  }
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.getAttribute('data-nav') === match?.[2]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!match) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/orders' }, 'Go to the orders')));
    return;
  }
  const [params, view] = [match[0].slice(1).map(decodeURIComponent), match[1]];
  replace(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  const context = { query, navigate, stale: () => mine !== generation, main };
  try {
    const content = await view(context, ...params);
    if (mine !== generation) return;
    replace(main, content);
  } catch (error) {
    if (mine !== generation) return;
    if (error?.status === 401) {
      session.forget();
      renderAccount();
    }
    failedScreen(main, 'This screen could not load', error, () => render());
  }
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    announce(heading.textContent ?? '');
  }
}

window.addEventListener('hashchange', render);
window.addEventListener('unhandledrejection', (event) => {
  // A failed action that a view forgot to catch still says so, in words, instead of nothing.
  event.preventDefault();
  failedScreen(main, 'That did not work', event.reason, () => render());
});
// Back from the store's OpenID provider: finish signing in before the first screen is drawn.
session.resume().then((returnTo) => (returnTo ? navigate(returnTo) : render()), (error) => {
  setSignInProblem(error);
  navigate('#/signin');
});
