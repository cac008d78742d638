import { settings } from './api.js';
import * as store from './state.js';

/** The currency prices are shown in: the cart's (fixed when it was created), else the shopper's choice. */
export async function displayCurrency() {
  const s = store.get();
  if (s.cart?.currency) return s.cart.currency;
  const { currencies, default_currency: fallback } = await settings();
  return currencies.includes(s.currency) ? s.currency : fallback;
}
