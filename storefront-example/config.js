// The one setting of this storefront: where the nanoshop API is.
//
// '' means "the same origin as this page", which is what `nanoshop serve` gives you (it serves this
// folder at `/` and the API beside it). For a deployed store, put the API's URL here, without a
// trailing slash, e.g. 'https://abc123.execute-api.eu-west-1.amazonaws.com', and add this page's
// origin to the stack's `AllowedOrigins` (CORS). See README.md.
export const API_BASE = '';
