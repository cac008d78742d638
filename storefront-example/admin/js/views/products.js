// Products: the list (search, status filter), and one product's form: its texts, options,
// variants with a price per currency, archive, and its images (uploaded straight to storage
// through the presigned URL, described, reordered, removed).

import { h, replace, field, selectField, formValues, announce } from '../../../js/dom.js';
import { money } from '../../../js/format.js';
import * as admin from '../api.js';
import { showProblem, problemBox, conflictBox, parsePrices, formatPrices, list } from '../ui.js';

const STATUSES = [['active', 'Active'], ['draft', 'Draft'], ['archived', 'Archived']];
let flash = null;

export async function productsView({ query, navigate }) {
  const q = (query.get('q') ?? '').trim();
  const status = query.get('status') || 'active';
  const cursor = query.get('cursor') ?? '';
  const { items, next_cursor: nextCursor } = await admin.listProducts({ q, status, cursor, limit: 50 });
  const form = h('form', { class: 'toolbar', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const v = formValues(form);
    navigate(`#/products?${new URLSearchParams({ q: v.q ?? '', status: v.status ?? '' })}`);
  } },
  field({ label: 'Search products', name: 'q', type: 'search', value: q }),
  selectField({ label: 'Status', name: 'status', options: STATUSES, value: status }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Search'),
  h('a', { class: 'button button--primary', href: '#/products/new' }, 'New product'));
  return [
    h('h1', {}, 'Products'),
    form,
    items.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, ['Product', 'Status', 'Variants', 'Price', 'SKUs'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, items.map((p) => h('tr', {},
          h('td', {}, h('a', { href: `#/products/${encodeURIComponent(p.id)}` }, p.title)),
          h('td', {}, p.status),
          h('td', { class: 'num' }, p.variants.length),
          h('td', {}, money(p.variants[0]?.prices?.[0])),
          h('td', {}, p.variants.map((v) => v.sku).join(', ')))))))
      : h('p', { class: 'empty' }, q ? `No ${status} products match “${q}”.` : `No ${status} products.`),
    nextCursor ? h('p', { class: 'paging' }, h('a', { href: `#/products?${new URLSearchParams({ q, status, cursor: nextCursor })}` }, 'Next page →')) : null,
  ];
}

export async function productView(context, id) {
  const product = id === 'new' ? null : await admin.getProduct(id);
  const root = h('div', {});
  draw(root, product, context, flash);
  flash = null;
  return root;
}

/** 'Size: S, M' lines → [{name: 'Size', values: ['S', 'M']}]. */
function parseOptions(text) {
  return String(text ?? '').split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [name, values = ''] = line.split(':');
    return { name: name.trim(), values: list(values) };
  });
}

function variantRow(variant, index, options, onRemove) {
  const values = options.map((o) => variant?.options?.[o.name] ?? '').join(' / ');
  const name = (k) => `variants[${index}].${k}`;
  return h('div', { class: 'variant-row', 'data-variant': index },
    field({ label: 'SKU', name: name('sku'), value: variant?.sku ?? '', required: true }),
    field({ label: 'Variant title', name: name('title'), value: variant?.title ?? '' }),
    field({ label: 'Option values', name: name('options'), value: values, hint: 'In the order of the options, e.g. M / Blue' }),
    field({ label: 'Prices', name: name('prices'), value: formatPrices(variant?.prices), required: true, hint: 'e.g. 49.00 EUR, 54.00 USD' }),
    field({ label: 'Weight (g)', name: name('weight_grams'), type: 'number', value: variant?.weight_grams == null ? '' : String(variant.weight_grams) }),
    h('button', { class: 'button button--secondary', type: 'button', onclick: onRemove }, `Remove variant ${index + 1}`));
}

/** The form's product as the API takes it; field errors found on the way are collected, not thrown. */
function bodyOf(form, rows) {
  const v = formValues(form);
  const errors = [];
  const options = parseOptions(v.options);
  const variants = [];
  for (let i = 0; i < rows; i += 1) {
    const key = (k) => v[`variants[${i}].${k}`] ?? '';
    let prices = [];
    try {
      prices = parsePrices(key('prices'));
    } catch (e) {
      errors.push({ field: `variants[${i}].prices`, message: e.message });
    }
    const values = key('options') ? key('options').split('/').map((s) => s.trim()) : [];
    if (values.length !== options.length && options.length) errors.push({ field: `variants[${i}].options`, message: `give one value for each option (${options.map((o) => o.name).join(', ')})` });
    const weight = key('weight_grams');
    variants.push({
      sku: key('sku'), title: key('title'), prices,
      options: Object.fromEntries(options.map((o, j) => [o.name, values[j] ?? ''])),
      weight_grams: weight === '' ? null : Number(weight),
    });
  }
  const body = {
    title: v.title ?? '', slug: v.slug ?? '', description: v.description ?? '', status: v.status ?? 'draft',
    categories: list(v.categories), tags: list(v.tags), options, variants,
  };
  return { body, errors };
}

function draw(root, product, context, notice = null) {
  const { navigate } = context;
  let rows = Math.max(product?.variants?.length ?? 0, 1);
  const variants = h('div', {});
  const conflict = h('div', {});
  const options = () => parseOptions(/** @type {HTMLTextAreaElement} */ (form.elements.namedItem('options'))?.value);
  const drawRows = (kept) => replace(variants, kept.map((variant, i) => variantRow(variant, i, options(), () => {
    const { body } = bodyOf(form, rows);
    body.variants.splice(i, 1);
    rows = Math.max(body.variants.length, 1);
    drawRows(body.variants.length ? body.variants : [null]);
  })));
  const save = async (ifMatch) => {
    const { body, errors } = bodyOf(form, rows);
    replace(conflict);
    if (errors.length) {
      showProblem(form, { code: 'validation_failed', detail: 'some fields need fixing', errors });
      return;
    }
    try {
      const saved = product ? await admin.patchProduct(product.id, body, ifMatch) : await admin.createProduct(body);
      flash = product ? 'Product saved.' : 'Product created.';
      if (product) {
        draw(root, saved, context, flash);
        announce(flash);
        flash = null;
      } else {
        navigate(`#/products/${encodeURIComponent(saved.id)}`);
      }
    } catch (error) {
      if (error?.status === 412 && product) {
        showProblem(form, null);
        const now = await admin.getProduct(product.id);
        replace(conflict, conflictBox({
          error, before: product, now,
          onRetry: () => save(admin.etagOf(now)),
          onReload: () => draw(root, now, context, 'Reloaded the current version.'),
        }));
        /** @type {HTMLElement | null} */ (conflict.firstElementChild)?.focus();
      } else {
        showProblem(form, error);
      }
    }
  };
  const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    save(admin.etagOf(product));
  } },
  h('div', { class: 'form-problem' }),
  field({ label: 'Title', name: 'title', value: product?.title ?? '', required: true }),
  field({ label: 'Slug', name: 'slug', value: product?.slug ?? '', required: true, hint: 'Lower-case letters, digits and hyphens; the product’s address in the storefront.' }),
  h('div', { class: 'field', 'data-field': 'description' }, h('label', { for: 'description' }, 'Description'),
    h('textarea', { id: 'description', name: 'description' }, product?.description ?? '')),
  selectField({ label: 'Status', name: 'status', options: [['draft', 'Draft'], ['active', 'Active'], ['archived', 'Archived']], value: product?.status ?? 'draft' }),
  field({ label: 'Categories', name: 'categories', value: (product?.categories ?? []).join(', '), hint: 'Category slugs, separated by commas' }),
  field({ label: 'Tags', name: 'tags', value: (product?.tags ?? []).join(', '), hint: 'Separated by commas' }),
  h('div', { class: 'field', 'data-field': 'options' }, h('label', { for: 'options' }, 'Options'),
    h('p', { class: 'hint' }, 'One per line: a name, a colon, the values, e.g. Size: S, M, L'),
    h('textarea', { id: 'options', name: 'options' }, (product?.options ?? []).map((o) => `${o.name}: ${o.values.join(', ')}`).join('\n'))),
  h('fieldset', {}, h('legend', {}, 'Variants'), variants,
    h('button', { class: 'button button--secondary', type: 'button', onclick: () => {
      const { body } = bodyOf(form, rows);
      rows += 1;
      drawRows([...body.variants, null]);
    } }, 'Add a variant')),
  conflict,
  h('p', { class: 'actions' }, h('button', { class: 'button button--primary', type: 'submit' }, product ? 'Save product' : 'Create product')));
  drawRows(product?.variants?.length ? product.variants : [null]);
  replace(root,
    h('p', { class: 'breadcrumbs' }, h('a', { href: '#/products' }, '← Products')),
    h('h1', {}, product ? product.title : 'New product'),
    notice ? h('p', { class: 'alert alert--success', role: 'status' }, notice) : null,
    form,
    product ? imagesSection(root, product, context) : null,
    product && product.status !== 'archived' ? archiveSection(root, product, context) : null);
}

function archiveSection(root, product, context) {
  const box = h('div', {});
  return h('section', { class: 'admin-form', 'aria-labelledby': 'archive-title' },
    h('h2', { id: 'archive-title' }, 'Archive'),
    h('p', {}, 'An archived product is no longer sold; orders and carts keep their lines.'),
    box,
    h('button', { class: 'button button--secondary', type: 'button', onclick: async () => {
      try {
        await admin.archiveProduct(product.id, admin.etagOf(product));
        draw(root, await admin.getProduct(product.id), context, 'Product archived.');
      } catch (error) {
        replace(box, problemBox(error));
      }
    } }, 'Archive this product'));
}

function imagesSection(root, product, context) {
  let images = product.images.map((i) => ({ ...i }));
  const box = h('div', {});
  const listEl = h('ul', { class: 'images' });
  const drawList = () => replace(listEl, images.map((image, i) => h('li', { 'data-image': image.id },
    h('img', { src: image.url, alt: image.alt ?? '' }),
    field({ label: `Description of image ${i + 1}`, name: `images[${i}].alt`, value: image.alt ?? '' }),
    h('p', { class: 'actions' },
      h('button', { class: 'button button--secondary', type: 'button', disabled: i === 0, onclick: () => move(i, -1) }, '←', h('span', { class: 'visually-hidden' }, ` move image ${i + 1} earlier`)),
      h('button', { class: 'button button--secondary', type: 'button', disabled: i === images.length - 1, onclick: () => move(i, 1) }, '→', h('span', { class: 'visually-hidden' }, ` move image ${i + 1} later`)),
      h('button', { class: 'button button--secondary', type: 'button', onclick: () => { keepAlts(); images.splice(i, 1); drawList(); } }, `Remove image ${i + 1}`)))));
  const keepAlts = () => {
    images = images.map((image, i) => ({ ...image, alt: /** @type {HTMLInputElement | null} */ (listForm.elements.namedItem(`images[${i}].alt`))?.value ?? image.alt }));
  };
  const move = (i, by) => {
    keepAlts();
    const [image] = images.splice(i, 1);
    images.splice(i + by, 0, image);
    drawList();
  };
  const listForm = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    keepAlts();
    try {
      const saved = await admin.patchProduct(product.id, { images: images.map((i) => ({ id: i.id, alt: i.alt || null })) }, admin.etagOf(product));
      draw(root, saved, context, 'Images saved.');
    } catch (error) {
      showProblem(listForm, error);
    }
  } }, h('div', { class: 'form-problem' }), listEl,
  images.length ? h('button', { class: 'button button--secondary', type: 'submit' }, 'Save images') : h('p', { class: 'empty' }, 'No images yet.'));
  drawList();
  const upload = h('form', { class: 'toolbar', onsubmit: async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (upload.elements.namedItem('file'));
    const file = input.files?.[0];
    if (!file) {
      showProblem(upload, { code: 'validation_failed', detail: 'choose a file', errors: [{ field: 'file', message: 'choose an image file' }] });
      return;
    }
    const alt = formValues(upload).alt || null;
    try {
      const { upload: target } = await admin.reserveImage(product.id, { content_type: file.type, content_length: file.size, alt });
      await admin.uploadImage(target, file);
      draw(root, await admin.getProduct(product.id), context, 'Image uploaded.');
    } catch (error) {
      showProblem(upload, renameImageFields(error));
    }
  } },
  h('div', { class: 'form-problem' }),
  h('div', { class: 'field', 'data-field': 'file' }, h('label', { for: 'image-file' }, 'Image file'),
    h('input', { id: 'image-file', name: 'file', type: 'file', accept: 'image/jpeg,image/png,image/webp,image/gif,image/avif' })),
  field({ label: 'Image description', name: 'alt' }),
  h('button', { class: 'button button--secondary', type: 'submit' }, 'Upload image'));
  return h('section', { class: 'admin-form', 'aria-labelledby': 'images-title' },
    h('h2', { id: 'images-title' }, 'Images'), box, listForm, upload);
}

/** The type and size of an upload are the file's: their errors belong beside the file field. */
function renameImageFields(error) {
  const errors = (error?.errors ?? []).map((e) => (['content_type', 'content_length'].includes(e.field) ? { ...e, field: 'file' } : e));
  return { ...error, errors };
}
