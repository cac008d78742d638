// Categories: the tree, and a form that creates one or renames and moves it (a slug never changes).

import { h, replace, field, selectField, formValues, announce } from '../../../js/dom.js';
import * as admin from '../api.js';
import { showProblem, conflictBox } from '../ui.js';

export async function categoriesView() {
  const root = h('div', {});
  draw(root, (await admin.getCategories()).items);
  return root;
}

function flatten(nodes, depth = 0) {
  return nodes.flatMap((n) => [{ ...n, depth }, ...flatten(n.children ?? [], depth + 1)]);
}

function draw(root, tree, notice = null) {
  const all = flatten(tree);
  let editing = null;
  const conflict = h('div', {});
  const formBox = h('div', {});
  const reload = async (message) => draw(root, (await admin.getCategories()).items, message);
  const save = async (ifMatch) => {
    const v = formValues(form);
    replace(conflict);
    try {
      await admin.putCategory(v.slug ?? '', { name: v.name ?? '', parent: v.parent || null }, ifMatch);
      await reload(`Category ${v.slug} saved.`);
      announce(`Category ${v.slug} saved.`);
    } catch (error) {
      if (error?.status === 412 || error?.code === 'category_changed') {
        showProblem(form, null);
        const now = flatten((await admin.getCategories()).items).find((c) => c.slug === v.slug) ?? null;
        replace(conflict, conflictBox({ error, before: editing, now, onRetry: () => save(admin.etagOf(now)), onReload: () => reload('Reloaded the categories.') }));
      } else {
        showProblem(form, error);
      }
    }
  };
  const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    save(admin.etagOf(editing));
  } });
  const drawForm = (category) => {
    editing = category;
    replace(form,
      h('h2', {}, category ? `Edit ${category.slug}` : 'New category'),
      h('div', { class: 'form-problem' }),
      field({ label: 'Slug', name: 'slug', value: category?.slug ?? '', required: true, attrs: { readonly: Boolean(category) } }),
      field({ label: 'Name', name: 'name', value: category?.name ?? '', required: true }),
      selectField({ label: 'Parent', name: 'parent', options: [['', '(none: a top-level category)'], ...all.filter((c) => c.slug !== category?.slug).map((c) => [c.slug, `${'— '.repeat(c.depth)}${c.name}`])], value: category?.parent ?? '' }),
      conflict,
      h('p', { class: 'actions' }, h('button', { class: 'button button--primary', type: 'submit' }, 'Save category'),
        category ? h('button', { class: 'button button--secondary', type: 'button', onclick: () => drawForm(null) }, 'New category instead') : null));
    replace(formBox, form);
  };
  drawForm(null);
  const branch = (nodes) => h('ul', { class: 'tree' }, nodes.map((n) => h('li', {},
    `${n.name} (${n.slug}) `,
    h('button', { class: 'link-button', type: 'button', onclick: () => { drawForm(all.find((c) => c.slug === n.slug)); form.querySelector('input:not([readonly])')?.focus(); } }, `Edit ${n.slug}`),
    n.children?.length ? branch(n.children) : null)));
  replace(root, h('h1', {}, 'Categories'),
    notice ? h('p', { class: 'alert alert--success', role: 'status' }, notice) : null,
    tree.length ? branch(tree) : h('p', { class: 'empty' }, 'No categories yet.'),
    formBox);
}
