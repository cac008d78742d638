// Sign-in with the store's OpenID provider (Cognito, Auth0, Entra ID, Keycloak, any other): the
// Authorization Code flow with PKCE for a public client, through oauth4webapi (vendor/oauth4webapi,
// pinned; it does the protocol's checks: state, issuer, nonce, the ID token's claims). The
// storefront and the merchant console each make one client with its own redirect URI and storage.
//
// Which token goes to the API: the ID token. Every provider issues it as a signed JWT whose `aud`
// is this client's id (the `AUTH_AUDIENCE` the functions check) and which carries the e-mail and
// the groups; access tokens are opaque or meant for another audience at several of them (Cognito's
// has no `aud`, Auth0's needs an API registered). The functions verify its signature themselves.
//
// Where the tokens live: sessionStorage, one tab's, not localStorage. A refresh token lasts days;
// in localStorage it would outlive the browser window on a shared computer and be read by every
// tab's scripts until it expires. In sessionStorage it is gone when the tab closes, and another tab
// signs in again, which takes no typing while the provider's own session lasts.

import * as oauth from '../vendor/oauth4webapi/oauth4webapi.js';

/** Tokens are refreshed this long before the ID token expires, so none is sent that dies in flight. */
const REFRESH_MARGIN_SECONDS = 60;

/**
 * @typedef {object} OpenIdSession
 * @property {string} idToken the bearer token for the API
 * @property {string | null} refreshToken
 * @property {number} expiresAt the ID token's `exp` (seconds)
 * @property {Record<string, unknown>} claims the ID token's claims
 */

/** Plain http is allowed only for a provider on this machine (the tests' own). */
function isLoopback(url) {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * A sign-in client for one page of this site.
 * @param {{issuer: string, clientId: string, scope: string, redirectUri: string, storageKey: string}} options
 *   `redirectUri` is registered at the provider, for sign-in and for sign-out alike
 */
export function openIdClient({ issuer, clientId, scope, redirectUri, storageKey }) {
  const issuerUrl = new URL(issuer);
  const client = { client_id: clientId };
  const auth = oauth.None();
  const options = isLoopback(issuerUrl) ? { [oauth.allowInsecureRequests]: true } : {};
  const pendingKey = `${storageKey}.pending`;
  /** @type {Promise<oauth.AuthorizationServer> | null} */
  let discovered = null;

  /** The provider's metadata (`/.well-known/openid-configuration`), read once per page load. */
  function server() {
    discovered ??= oauth.discoveryRequest(issuerUrl, { ...options, algorithm: 'oidc' })
      .then((response) => oauth.processDiscoveryResponse(issuerUrl, response));
    discovered.catch(() => { discovered = null; });
    return discovered;
  }

  function read(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key) ?? 'null');
    } catch {
      return null;
    }
  }

  /** @param {oauth.TokenEndpointResponse} response @param {string | null} previousRefresh */
  function keep(response, previousRefresh) {
    const claims = oauth.getValidatedIdTokenClaims(response);
    if (!response.id_token || !claims) throw new Error('the provider answered without an ID token');
    /** @type {OpenIdSession} */
    const session = {
      idToken: response.id_token,
      // A provider that does not rotate refresh tokens answers a refresh without a new one.
      refreshToken: response.refresh_token ?? previousRefresh,
      expiresAt: Number(claims.exp),
      claims: { ...claims },
    };
    sessionStorage.setItem(storageKey, JSON.stringify(session));
    return session;
  }

  return {
    /** @returns {OpenIdSession | null} the session of this tab */
    session() {
      const session = read(storageKey);
      return session && typeof session.idToken === 'string' ? session : null;
    },

    /**
     * Goes to the provider's sign-in page. `returnTo` (a hash of this page) is where the shopper
     * lands once back. The PKCE verifier, `state` and `nonce` wait in this tab's storage.
     * @param {string} returnTo
     * @param {{prompt?: string}} [options] `prompt: 'login'` makes the provider ask who is signing
     *   in even while its own session lasts (to sign in as someone else)
     */
    async signIn(returnTo, { prompt } = {}) {
      const as = await server();
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, nonce, returnTo }));
      if (!as.authorization_endpoint) throw new Error('the provider has no authorization endpoint');
      const url = new URL(as.authorization_endpoint);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope,
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...(prompt ? { prompt } : {}),
      }).toString();
      window.location.assign(url.href);
    },

    /**
     * Back from the provider: exchanges the code (with the PKCE verifier) for tokens and keeps
     * them. `null` when this page load is not a return from the provider. Rejects when the
     * provider refused (its `error_description`) or the answer fails a check.
     * @returns {Promise<{session: OpenIdSession, returnTo: string} | null>}
     */
    async completeSignIn() {
      const here = new URL(window.location.href);
      const pending = read(pendingKey);
      if (!here.searchParams.has('state') || !pending) return null;
      sessionStorage.removeItem(pendingKey);
      const as = await server();
      const params = oauth.validateAuthResponse(as, client, here.searchParams, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as, client, auth, params, redirectUri, pending.verifier, options);
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: pending.nonce, requireIdToken: true,
      });
      return { session: keep(tokens, null), returnTo: pending.returnTo };
    },

    /**
     * An ID token good for at least another minute: the kept one, or a new one by the refresh
     * token. `null` when there is none, or it expired and cannot be renewed (sign in again).
     * @returns {Promise<string | null>}
     */
    async freshIdToken() {
      const session = this.session();
      if (!session) return null;
      if (session.expiresAt - Date.now() / 1000 > REFRESH_MARGIN_SECONDS) return session.idToken;
      if (!session.refreshToken) return null;
      try {
        const as = await server();
        const response = await oauth.refreshTokenGrantRequest(as, client, auth, session.refreshToken, options);
        return keep(await oauth.processRefreshTokenResponse(as, client, response), session.refreshToken).idToken;
      } catch (error) {
        console.warn('refreshing the sign-in failed', error);
        return null;
      }
    },

    /** Forgets this tab's tokens. */
    forget() {
      sessionStorage.removeItem(storageKey);
    },

    /**
     * Forgets the tokens and ends the provider's session too, where it offers that
     * (`end_session_endpoint`: the browser goes there and comes back to `redirectUri`).
     */
    async signOut() {
      const session = this.session();
      this.forget();
      let as;
      try {
        as = await server();
      } catch {
        return;
      }
      if (!as.end_session_endpoint) return;
      const url = new URL(as.end_session_endpoint);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('post_logout_redirect_uri', redirectUri);
      if (session) url.searchParams.set('id_token_hint', session.idToken);
      window.location.assign(url.href);
    },
  };
}

/**
 * Whether a token's claims put the caller in the `admin` group, read as the functions read it:
 * `claim` holds an array of groups or one space-separated string, whole entries only.
 * @param {Record<string, unknown>} claims @param {string} claim
 */
export function isAdmin(claims, claim) {
  const groups = claims[claim];
  if (Array.isArray(groups)) return groups.includes('admin');
  return typeof groups === 'string' && groups.split(/\s+/).includes('admin');
}
