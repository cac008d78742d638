// A tiny element builder: no innerHTML anywhere, so text from the API can never become markup.

/**
 * h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) → HTMLAnchorElement.
 * Attributes that are null, undefined or false are left out; true gives an empty attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && (tag === 'input' || tag === 'select' || tag === 'textarea')) el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'id') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** Says something to screen-reader users without moving focus. */
export function announce(text) {
  const live = document.getElementById('announcer');
  if (!live) return;
  // Clearing first makes the same sentence twice in a row be read twice.
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

/** A visually hidden span, for text that only screen readers need. */
export function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

/** The labelled text field used by every form: returns the wrapper; the input has `name`. */
export function field({ label, name, type = 'text', value = '', required = false, autocomplete, hint, inputmode, attrs = {} }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id, name, type, value: value ?? '', required, autocomplete, inputmode,
    'aria-describedby': hintId, ...attrs,
  });
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? null : h('span', { class: 'optional' }, ' (optional)')),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input);
}

/** A labelled select of [value, text] pairs. */
export function selectField({ label, name, options, value, required = false, autocomplete }) {
  const id = uid(name);
  const select = h('select', { id, name, required, autocomplete },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: id }, label), select);
}

/** Marks form fields named in `errors` ({name: message}) invalid, with the message beside them. */
export function showFieldErrors(form, errors) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const described = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((d) => !d.endsWith('-error'));
    if (described.length) el.setAttribute('aria-describedby', described.join(' '));
    else el.removeAttribute('aria-describedby');
  }
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    const input = form.elements.namedItem(name);
    if (!(input instanceof HTMLElement) || !input.id) continue;
    const errorId = `${input.id}-error`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), errorId].filter(Boolean).join(' '));
    input.closest('.field')?.append(h('p', { class: 'field-error', id: errorId }, message));
    first ??= input;
  }
  return first;
}

/** A form's named fields as an object of trimmed strings. */
export function formValues(form) {
  const values = {};
  for (const [key, value] of new FormData(form).entries()) values[key] = typeof value === 'string' ? value.trim() : value;
  return values;
}
