// The customer's account: profile (name, e-mail, phone, marketing consent), address book (add,
// edit, delete, the default delivery and billing addresses), the latest orders, and sign-out.
// `GET/PATCH /me`, `GET/POST/PATCH/DELETE /me/addresses…`, `GET /orders`.

import { ApiError, listOrders, settings } from '../api.js';
import * as account from '../account.js';
import { h, replace, field, announce, showFieldErrors } from '../dom.js';
import { errorBox, explain } from '../errors.js';
import { country } from '../format.js';
import * as session from '../session.js';
import { addressFieldset, readAddress } from './parts.js';
import { table as ordersTable } from './orders.js';

/** The browser's own checks of a form first (required fields, shapes), said in our words. */
function browserProblems(form) {
  const problems = {};
  for (const el of form.querySelectorAll('input, select')) {
    if (el.name && !el.checkValidity()) problems[el.name] = el.validity.valueMissing ? 'Please fill this in.' : 'Please check this.';
  }
  return problems;
}

/** Shows an API error: each field's message beside it, the sentence in `slot`. */
function showProblem(form, slot, error) {
  showFieldErrors(form, explain(error).fields);
  const box = errorBox(error);
  replace(slot, box);
  box.focus();
}

function checkbox(name, label, checked) {
  const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h('div', { class: 'field field--check', 'data-field': name },
    h('input', { type: 'checkbox', id, name, checked: Boolean(checked) }),
    h('label', { for: id }, label));
}

// ---- Profile

function profileSection(loaded) {
  let { data: me, etag } = loaded;
  const feedback = h('div');
  /** Puts the profile as the API has it into the form. */
  function fill() {
    for (const name of ['name', 'email', 'phone']) form.elements.namedItem(name).value = me[name] ?? '';
    form.elements.namedItem('marketing_consent').checked = Boolean(me.marketing_consent);
  }
  const form = h('form', { class: 'account-form', novalidate: true, 'aria-labelledby': 'profile-heading', onsubmit: async (event) => {
    event.preventDefault();
    replace(feedback);
    const problems = browserProblems(form);
    if (Object.keys(problems).length) {
      showFieldErrors(form, problems).focus();
      return;
    }
    showFieldErrors(form, {});
    const value = (name) => form.elements.namedItem(name).value.trim() || null;
    const patch = {
      name: value('name'), email: value('email'), phone: value('phone'),
      marketing_consent: form.elements.namedItem('marketing_consent').checked,
    };
    try {
      ({ data: me, etag } = await account.changeProfile(patch, etag));
      announce('Your profile is saved.');
      replace(feedback, h('p', { class: 'alert alert--success', role: 'status' }, 'Saved.'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        // Changed in another tab or device since this page was drawn: show what it is now.
        try {
          ({ data: me, etag } = await account.profile());
          fill();
          replace(feedback, h('p', { class: 'alert alert--warning', role: 'alert' },
            'Your profile was changed elsewhere in the meantime. Here it is as it is now: make your change again.'));
        } catch (again) {
          showProblem(form, feedback, again);
        }
        return;
      }
      showProblem(form, feedback, e);
    }
  } },
  field({ label: 'Name', name: 'name', value: me.name, autocomplete: 'name', attrs: { maxlength: '200' } }),
  field({ label: 'Email', name: 'email', type: 'email', value: me.email ?? session.current()?.email, autocomplete: 'email' }),
  field({ label: 'Phone', name: 'phone', type: 'tel', value: me.phone, autocomplete: 'tel' }),
  checkbox('marketing_consent', 'Send me news and offers by e-mail', me.marketing_consent),
  feedback,
  h('button', { type: 'submit', class: 'button button--primary' }, 'Save profile'));
  return h('section', { class: 'panel account-section' }, h('h2', { id: 'profile-heading' }, 'Profile'), form);
}

// ---- Address book

function addressLines(a) {
  return h('address', {}, [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.region, country(a.country), a.phone]
    .filter(Boolean).flatMap((line, i) => (i ? [h('br'), line] : [line])));
}

/** The form to add an address, or to edit `saved`. */
function addressForm({ saved, countries, onsaved, oncancel }) {
  const feedback = h('div');
  const form = h('form', { class: 'account-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    replace(feedback);
    const problems = browserProblems(form);
    if (Object.keys(problems).length) {
      showFieldErrors(form, problems).focus();
      return;
    }
    showFieldErrors(form, {});
    const body = {
      label: form.elements.namedItem('label').value.trim() || null,
      address: readAddress(form),
      default_shipping: form.elements.namedItem('default_shipping').checked,
      default_billing: form.elements.namedItem('default_billing').checked,
    };
    try {
      const result = saved ? await account.changeAddress(saved.id, body) : await account.addAddress(body);
      announce(saved ? 'The address is saved.' : 'The address is added to your address book.');
      onsaved(result);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'address_book_full') {
        replace(feedback, errorBox(new ApiError({ code: 'address_book_full', detail: 'Your address book is full (20 addresses). Delete one to add another.' })));
        return;
      }
      showProblem(form, feedback, e);
    }
  } },
  field({ label: 'Label', name: 'label', value: saved?.label, hint: 'For you, e.g. Home or Work.', attrs: { maxlength: '50' } }),
  addressFieldset({ address: saved?.address, countries, legend: 'Address' }),
  checkbox('default_shipping', 'My default delivery address', saved?.default_shipping),
  checkbox('default_billing', 'My default billing address', saved?.default_billing),
  feedback,
  h('p', { class: 'actions' },
    h('button', { type: 'submit', class: 'button button--primary' }, saved ? 'Save address' : 'Add address'),
    h('button', { type: 'button', class: 'button button--secondary', onclick: oncancel }, 'Cancel')));
  return form;
}

function addressBookSection(book, countries) {
  const section = h('section', { class: 'panel account-section', 'aria-labelledby': 'addresses-heading' });
  let items = book;

  function draw(focus) {
    const list = items.length
      ? h('ul', { class: 'address-book' }, items.map((saved) => h('li', { class: 'address-card', 'data-address': saved.id },
        h('h3', {}, saved.label ?? saved.address.name),
        addressLines(saved.address),
        saved.default_shipping || saved.default_billing
          ? h('p', { class: 'badges' },
            saved.default_shipping ? h('span', { class: 'badge' }, 'Default delivery') : null,
            saved.default_billing ? h('span', { class: 'badge' }, 'Default billing') : null)
          : null,
        h('p', { class: 'actions' },
          h('button', { type: 'button', class: 'button button--secondary', 'aria-label': `Edit ${account.describe(saved)}`, onclick: () => edit(saved) }, 'Edit'),
          h('button', { type: 'button', class: 'button button--secondary', 'aria-label': `Delete ${account.describe(saved)}`, onclick: () => remove(saved) }, 'Delete')))))
      : h('p', { class: 'empty' }, 'No saved addresses yet. Addresses you save here are offered at checkout.');
    const add = h('button', { type: 'button', class: 'button button--secondary', onclick: () => edit(null) }, 'Add an address');
    replace(section, h('h2', { id: 'addresses-heading', tabindex: '-1' }, 'Address book'), list, h('p', { class: 'actions' }, add));
    focus?.(section);
  }

  async function reload() {
    items = await account.addresses();
    draw((s) => s.querySelector('h2')?.focus());
  }

  function edit(saved) {
    const form = addressForm({
      saved, countries,
      onsaved: () => reload().catch((e) => replace(section, errorBox(e))),
      oncancel: () => draw(),
    });
    replace(section, h('h2', { id: 'addresses-heading' }, saved ? `Edit ${saved.label ?? saved.address.name}` : 'Add an address'), form);
    form.querySelector('input')?.focus();
  }

  async function remove(saved) {
    try {
      await account.removeAddress(saved.id);
      announce(`${account.describe(saved)} is deleted.`);
      await reload();
    } catch (e) {
      section.prepend(errorBox(e));
    }
  }

  draw();
  return section;
}

// ---- Orders

async function ordersSection() {
  const section = h('section', { class: 'panel account-section', 'aria-labelledby': 'account-orders-heading' },
    h('h2', { id: 'account-orders-heading' }, 'Recent orders'));
  try {
    const { items = [] } = await listOrders({ limit: 5 });
    section.append(items.length ? ordersTable(items, 'Your latest orders') : h('p', {}, "You haven't placed any orders yet."));
  } catch (e) {
    section.append(errorBox(e));
  }
  section.append(h('p', {}, h('a', { href: '#/orders' }, 'All your orders')));
  return section;
}

export async function accountView({ navigate }) {
  const current = session.current();
  if (!current) {
    navigate('#/signin?next=%2Faccount', { replace: true });
    return null;
  }
  const [{ countries }, loaded, book, orders] = await Promise.all([
    settings(),
    account.profile().catch((e) => (account.isUnavailable(e) ? null : Promise.reject(e))),
    account.addresses().catch((e) => (account.isUnavailable(e) ? null : Promise.reject(e))),
    ordersSection(),
  ]);
  const signOut = h('button', { type: 'button', class: 'button button--secondary', onclick: async () => {
    await session.signOut({ everywhere: true });
    announce('Signed out.');
    navigate('#/');
  } }, 'Sign out');
  return {
    title: 'Your account',
    node: h('section', { class: 'page account-page' },
      h('h1', { tabindex: '-1' }, 'Your account'),
      h('p', { class: 'hint' }, `Signed in as ${current.email ?? current.sub}.`),
      loaded ? profileSection(loaded) : h('p', { class: 'alert alert--info' }, "This store doesn't keep profiles or address books."),
      book ? addressBookSection(book, countries) : null,
      orders,
      h('p', { class: 'actions' }, signOut)),
  };
}
