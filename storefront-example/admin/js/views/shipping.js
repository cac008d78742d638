// Shipping zones as a form, inside the settings screen: each zone's name and countries, and its
// rates (the API's shipping methods: id, name, a price per currency, an optional free-shipping
// threshold). Fields are named by the API's error paths (`shipping_zones[0].countries`,
// `shipping_zones[0].methods[1].prices`), so each problem+json field error lands beside its field;
// a zone's and its rates' fieldsets are named too, for errors about a whole zone or its rates.
// Adding or removing a zone or rate redraws the editor from what is typed, so names stay indices.

import { h, replace, field } from '../../../js/dom.js';
import { formatPrices, parsePrices, list } from '../ui.js';

/** @typedef {{id: string, name: string, prices: string, free_over: string}} RateDraft */
/** @typedef {{name: string, countries: string, methods: RateDraft[]}} ZoneDraft */

const newRate = () => ({ id: '', name: '', prices: '', free_over: '' });
const newZone = () => ({ name: '', countries: '', methods: [newRate()] });

/** The API's zones as the texts the form shows. @returns {ZoneDraft[]} */
function drafts(zones) {
  return (zones ?? []).map((zone) => ({
    name: zone.name ?? '',
    countries: (zone.countries ?? []).join(', '),
    methods: (zone.methods ?? []).map((m) => ({
      id: m.id ?? '', name: m.name ?? '', prices: formatPrices(m.prices), free_over: formatPrices(m.free_over),
    })),
  }));
}

/**
 * The zone editor for `zones`: its element, and `read()`, which gives the zones as the API takes
 * them and the field errors of what cannot be read (a price that is not an amount and currency).
 */
export function zonesEditor(zones) {
  const root = h('div', { class: 'zones', 'data-field': 'shipping_zones' });
  const at = (name) => /** @type {HTMLInputElement | null} */ (root.querySelector(`[name="${name}"]`))?.value.trim() ?? '';

  /** What is typed now. @returns {ZoneDraft[]} */
  const typed = () => [...root.querySelectorAll('[data-zone]')].map((_, z) => ({
    name: at(`shipping_zones[${z}].name`),
    countries: at(`shipping_zones[${z}].countries`),
    methods: [...root.querySelectorAll(`[data-zone="${z}"] [data-rate]`)].map((__, m) => {
      const key = (k) => at(`shipping_zones[${z}].methods[${m}].${k}`);
      return { id: key('id'), name: key('name'), prices: key('prices'), free_over: key('free_over') };
    }),
  }));

  /** Redraws from `state`, after `change` (adding or removing) has been applied to it. */
  const redraw = (change) => {
    const state = typed();
    change(state);
    draw(state);
  };

  const rateFields = (rate, z, m) => {
    const name = (k) => `shipping_zones[${z}].methods[${m}].${k}`;
    return h('div', { class: 'rate', 'data-rate': String(m) },
      field({ label: 'Rate name', name: name('name'), value: rate.name, required: true, hint: 'As shoppers see it, e.g. Standard (3–5 days)' }),
      field({ label: 'Rate id', name: name('id'), value: rate.id, required: true, hint: 'Lower-case letters, digits and hyphens, e.g. standard' }),
      field({ label: 'Price per currency', name: name('prices'), value: rate.prices, required: true, hint: 'e.g. 4.90 EUR, 5.50 USD' }),
      field({ label: 'Free over', name: name('free_over'), value: rate.free_over, hint: 'Orders from this subtotal ship free, e.g. 50.00 EUR' }),
      h('button', { class: 'button button--secondary', type: 'button',
        onclick: () => redraw((s) => s[z].methods.splice(m, 1)) }, `Remove rate ${rate.name || m + 1}`));
  };

  const zoneFieldset = (zone, z) => {
    const name = (k) => `shipping_zones[${z}].${k}`;
    const label = zone.name || `zone ${z + 1}`;
    return h('fieldset', { class: 'zone field', 'data-zone': String(z), name: `shipping_zones[${z}]`, id: `shipping-zone-${z}` },
      h('legend', {}, `Shipping zone: ${label}`),
      field({ label: 'Zone name', name: name('name'), value: zone.name, required: true, hint: 'e.g. European Union' }),
      field({ label: 'Countries', name: name('countries'), value: zone.countries, required: true, hint: 'ISO codes, e.g. AT, DE, FR; a country belongs to one zone' }),
      h('fieldset', { class: 'rates field', name: name('methods'), id: `shipping-zone-${z}-rates` },
        h('legend', {}, 'Rates'),
        zone.methods.length ? zone.methods.map((rate, m) => rateFields(rate, z, m)) : h('p', { class: 'hint' }, 'No rate yet: add one.'),
        h('button', { class: 'button button--secondary', type: 'button',
          onclick: () => redraw((s) => s[z].methods.push(newRate())) }, `Add a rate to ${label}`)),
      h('button', { class: 'button button--secondary', type: 'button',
        onclick: () => redraw((s) => s.splice(z, 1)) }, `Remove ${label}`));
  };

  /** @param {ZoneDraft[]} state */
  const draw = (state) => replace(root,
    state.length ? state.map(zoneFieldset) : h('p', {}, 'No shipping zones yet: add one to ship anywhere.'),
    h('button', { class: 'button button--secondary', type: 'button', onclick: () => redraw((s) => s.push(newZone())) }, 'Add a shipping zone'));

  draw(drafts(zones));

  /** @returns {{zones: any[], errors: {field: string, message: string}[]}} */
  const read = () => {
    const errors = [];
    const amounts = (text, path) => {
      try {
        return parsePrices(text);
      } catch (e) {
        errors.push({ field: path, message: e instanceof Error ? e.message : String(e) });
        return [];
      }
    };
    const zonesTyped = typed().map((zone, z) => ({
      name: zone.name,
      countries: list(zone.countries).map((c) => c.toUpperCase()),
      methods: zone.methods.map((m, i) => ({
        id: m.id,
        name: m.name,
        prices: amounts(m.prices, `shipping_zones[${z}].methods[${i}].prices`),
        free_over: amounts(m.free_over, `shipping_zones[${z}].methods[${i}].free_over`),
      })),
    }));
    return { zones: zonesTyped, errors };
  };

  return { element: root, read };
}
