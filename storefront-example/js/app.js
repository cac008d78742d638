// The single-page shell: a hash router (works on any static host, no rewrite rules), the header
// (cart count, sign-in state, currency), focus management on every route change, and one place
// that shows a page that failed to load.

import { settings, setUnauthorizedHandler } from './api.js';
import { h, replace, announce } from './dom.js';
import { errorBox } from './errors.js';
import { currencyName } from './format.js';
import { displayCurrency } from './currency.js';
import * as store from './state.js';
import * as session from './session.js';
import { catalogView } from './views/catalog.js';
import { productView } from './views/product.js';
import { cartView } from './views/cart.js';
import { checkoutView } from './views/checkout.js';
import { payView } from './views/pay.js';
import { orderView } from './views/order.js';
import { ordersView } from './views/orders.js';
import { signInView, setSignInProblem } from './views/signin.js';
import { accountView } from './views/account.js';

const routes = [
  [/^\/?$/, catalogView, 'shop'],
  [/^\/product\/([^/]+)$/, productView, 'shop'],
  [/^\/cart$/, cartView, 'cart'],
  [/^\/checkout$/, checkoutView, 'cart'],
  [/^\/pay\/([^/]+)$/, payView, 'cart'],
  [/^\/order\/([^/]+)$/, orderView, 'orders'],
  [/^\/orders$/, ordersView, 'orders'],
  [/^\/signin$/, signInView, 'signin'],
  [/^\/account$/, accountView, 'signin'],
];

const main = document.getElementById('main');
let generation = 0;
let firstRender = true;

/** The route of the current location hash: {path, query}. */
function location() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

export function navigate(hash, { replace: replaceEntry = false } = {}) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (window.location.hash === target) {
    render();
  } else if (replaceEntry) {
    window.history.replaceState(null, '', target);
    render();
  } else {
    window.location.hash = target;
  }
}

async function render() {
  generation += 1;
  const mine = generation;
  const { path, query } = location();
  const match = routes.map(([re, view, section]) => [re.exec(path), view, section]).find(([m]) => m);
  const [params, view, section] = match ? [match[0].slice(1).map(decodeURIComponent), match[1], match[2]] : [[], notFoundView, null];
  markSection(section);
  main.setAttribute('aria-busy', 'true');
  const slow = setTimeout(() => {
    if (mine === generation) replace(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  }, 150);
  const ctx = {
    params, query, navigate,
    isCurrent: () => mine === generation,
    rerender: () => render(),
  };
  let page;
  try {
    page = await view(ctx);
  } catch (error) {
    console.error(error);
    page = {
      title: 'Something went wrong',
      node: h('section', { class: 'page' },
        h('h1', { tabindex: '-1' }, 'This page could not be loaded'),
        errorBox(error),
        h('p', {}, h('button', { type: 'button', class: 'button', onclick: () => render() }, 'Try again'))),
    };
  }
  clearTimeout(slow);
  if (mine !== generation || !page) return;
  main.removeAttribute('aria-busy');
  replace(main, page.node);
  document.title = `${page.title} — nanoshop`;
  if (firstRender) {
    firstRender = false;
  } else {
    window.scrollTo(0, 0);
    // Focus the page's heading so keyboard and screen-reader users start at the new content.
    const target = page.node.querySelector('h1') ?? main;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
  }
}

function notFoundView() {
  return {
    title: 'Page not found',
    node: h('section', { class: 'page' },
      h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, "There's nothing at this address. ", h('a', { href: '#/' }, 'Go to the shop'), '.')),
  };
}

function markSection(section) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderHeader() {
  const s = store.get();
  const count = s.cartCount ?? 0;
  document.getElementById('cart-count').textContent = count > 0 ? String(count) : '';
  document.getElementById('cart-count-text').textContent = count === 1 ? ', 1 item' : `, ${count} items`;
  const account = document.getElementById('account-nav');
  const signedIn = s.session;
  const current = account.querySelector('[data-nav]')?.getAttribute('aria-current');
  replace(account, signedIn
    // A provider's `sub` is an opaque id (Cognito's a UUID): its customers go by their e-mail.
    ? h('a', { href: '#/account', 'data-nav': 'signin', 'aria-current': current }, 'Account',
      h('span', { class: 'account-name' }, ` (${signedIn.provider === 'oidc' ? signedIn.email ?? signedIn.sub : signedIn.sub})`))
    : h('a', { href: '#/signin', 'data-nav': 'signin', 'aria-current': current }, 'Sign in'));
  renderCurrency().catch(() => {});
}

async function renderCurrency() {
  const select = document.getElementById('currency');
  const hint = document.getElementById('currency-hint');
  const { currencies } = await settings();
  const chosen = await displayCurrency();
  const s = store.get();
  // The API fixes a cart's currency when it is created: while the cart holds something (or is a
  // customer's, which lives on the server), prices stay in that currency.
  const locked = Boolean(s.cart && ((s.cartCount ?? 0) > 0 || !s.cart.token));
  if (select.options.length !== currencies.length) {
    replace(select, currencies.map((c) => h('option', { value: c, title: currencyName(c) }, c)));
  }
  select.value = chosen;
  select.disabled = locked;
  select.title = locked ? `Your cart is in ${chosen}` : '';
  hint.textContent = locked ? `Your cart is priced in ${currencyName(chosen)}; empty it to change currency.` : '';
}

document.getElementById('currency').addEventListener('change', (event) => {
  const currency = event.target.value;
  const s = store.get();
  // An empty guest cart is simply left behind; a new one is made in the new currency.
  if (s.cart && s.cart.token && (s.cartCount ?? 0) === 0) store.update({ cart: null });
  store.update({ currency });
  announce(`Prices are now shown in ${currencyName(currency)}.`);
  render();
});

setUnauthorizedHandler(() => {
  session.signOut();
  announce('Your sign-in has expired. Please sign in again.');
});

store.subscribe(renderHeader);
window.addEventListener('hashchange', render);
document.querySelector('[data-skip]').addEventListener('click', (event) => {
  event.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});

renderHeader();
// Back from the store's OpenID provider: finish signing in before the first page is drawn, so it
// is drawn for the customer, with their cart.
session.resume().then((signedIn) => {
  if (signedIn) {
    const count = (signedIn.cart?.items ?? []).reduce((n, line) => n + line.quantity, 0);
    announce(`Signed in as ${session.current()?.email ?? session.current()?.sub}.${count ? ` Your cart has ${count} item${count === 1 ? '' : 's'}.` : ''}`);
  }
  render();
}, (error) => {
  console.warn('signing in failed', error);
  setSignInProblem(error);
  navigate('#/signin', { replace: true });
});
