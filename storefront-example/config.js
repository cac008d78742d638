// The settings of this storefront (and of the merchant console in admin/, which reads the same file).
//
// API_BASE: where the nanoshop API is. '' means "the same origin as this page", which is what
// `nanoshop serve` gives you (it serves this folder at `/` and the API beside it). For a deployed
// store, put the API's URL here, without a trailing slash, e.g.
// 'https://abc123.execute-api.eu-west-1.amazonaws.com', and add this page's origin to the stack's
// `AllowedOrigins` (CORS). See README.md.
export const API_BASE = '';

// Sign-in. With OIDC_ISSUER '' (the default, and `make dev`), the local one-click sign-in of
// `nanoshop serve` (POST /dev/token). Otherwise the store's OpenID provider, by the Authorization
// Code flow with PKCE: OIDC_ISSUER is its issuer URL (the stack's `AuthIssuer`), OIDC_CLIENT_ID a
// public client registered there (no secret; the stack's `AuthAudience`) whose redirect URIs are
// this page's address and its admin/ page's. README.md, "Signing in with an OpenID provider".
export const OIDC_ISSUER = '';
export const OIDC_CLIENT_ID = '';
// What is asked for: the ID token and the e-mail in it. Add `offline_access` where the provider
// issues refresh tokens only then (Auth0, Entra ID); without a refresh token, an expired sign-in
// signs in again.
export const OIDC_SCOPE = 'openid email';
// The claim listing the groups of whoever signs in, as the functions read it (`AUTH_ADMIN_CLAIM`):
// the group `admin` in it opens the merchant console.
export const OIDC_ADMIN_CLAIM = 'cognito:groups';
