// The settings of this storefront: where the nanoshop API is, and the Stripe publishable key.
//
// '' means "the same origin as this page", which is what `nanoshop serve` gives you (it serves this
// folder at `/` and the API beside it). For a deployed store, put the API's URL here, without a
// trailing slash, e.g. 'https://abc123.execute-api.eu-west-1.amazonaws.com', and add this page's
// origin to the stack's `AllowedOrigins` (CORS). See README.md.
export const API_BASE = '';

// The Stripe publishable key (`pk_test_…` / `pk_live_…`) of a deployed store. Checkout answers with
// it, so it is needed only to resume paying an order placed in another browser or on another
// device (the order then carries its `payment.client_secret`). '' means the local payment
// simulator of `nanoshop serve`.
export const STRIPE_PUBLISHABLE_KEY = '';
