// A real OpenID provider for the tests: node-oidc-provider (a certified implementation), with one
// client that gets JWT access tokens by the client-credentials grant, signing keys the test
// rotates and drops while the provider runs, and, for the storefront's browser test, public clients
// that sign people in by the Authorization Code flow with PKCE on the provider's own login form
// (its development interactions: any login, any password).
//
//   node tests/oidc/provider.mjs [AUDIENCE]   # an absolute URI (a resource indicator)
//
// Listens on a free 127.0.0.1 port and prints one line, {"issuer": "http://127.0.0.1:PORT"}.
// The package is not in the repository: it is installed by tests/oidc/install.sh into
// $NANOSHOP_CACHE/oidc-provider (default ~/.cache/nanoshop/oidc-provider).
//
// Beside the provider's own routes (/.well-known/openid-configuration, /jwks, /token, ...):
//   POST /test/rotate   a new signing key, published first (so it signs), the old ones kept
//   POST /test/drop     every key but the newest dropped
//   GET  /test/stats    {"jwks_fetches": N}: how often /jwks was read
//   POST /test/clients  [client metadata, ...]: public clients added (a browser's redirect URIs
//                       are known only once its server listens, after this provider)
//
// Whoever signs in as LOGIN is the account LOGIN: `sub` LOGIN, `email` LOGIN@shop.test, and
// `groups` ["admin"] for the login "merchant" (the ID token carries them all: a storefront sends
// it to the API, which reads the groups from the claim AUTH_ADMIN_CLAIM names).
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const cache = process.env.NANOSHOP_CACHE || join(homedir(), ".cache", "nanoshop");
const modules = join(cache, "oidc-provider", "node_modules");
const { default: Provider } = await import(pathToFileURL(join(modules, "oidc-provider", "lib", "index.js")).href);

const audience = process.argv[2] || "https://api.nanoshop.test";
export const CLIENT = { client_id: "nanoshop-e2e", client_secret: "nanoshop-e2e-secret" };

function signingKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
}

let keys = [signingKey()];
let browserClients = [];
let jwksFetches = 0;
let issuer;
let provider;

// The provider's keys are fixed when it is made: a rotation makes a new one over the new keys.
// Its tokens are self-contained JWTs, so nothing is lost.
function makeProvider() {
  provider = new Provider(issuer, {
    clients: [
      { ...CLIENT, grant_types: ["client_credentials"], redirect_uris: [], response_types: [] },
      ...browserClients.map((client) => ({
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        ...client,
        token_endpoint_auth_method: "none",
      })),
    ],
    jwks: { keys },
    findAccount: (_ctx, login) => ({
      accountId: login,
      claims: () => ({
        sub: login,
        email: `${login}@shop.test`,
        email_verified: true,
        groups: login === "merchant" ? ["admin"] : [],
      }),
    }),
    claims: { openid: ["sub", "groups"], email: ["email", "email_verified"] },
    // The scopes' claims in the ID token itself, as Cognito, Auth0, Entra ID and Keycloak put them.
    conformIdTokenClaims: false,
    // A refresh token for every sign-in of a client allowed to refresh, as Cognito issues them,
    // not only when `offline_access` is asked for.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "api",
          audience,
          accessTokenTTL: 600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (req.method === "POST" && path === "/test/rotate") {
    keys = [signingKey(), ...keys];
    makeProvider();
    return reply(res, 200, { kids: keys.map((k) => k.kid) });
  }
  if (req.method === "POST" && path === "/test/drop") {
    keys = keys.slice(0, 1);
    makeProvider();
    return reply(res, 200, { kids: keys.map((k) => k.kid) });
  }
  if (req.method === "POST" && path === "/test/clients") {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      browserClients = JSON.parse(body);
      makeProvider();
      reply(res, 200, { clients: browserClients.map((c) => c.client_id) });
    });
    return undefined;
  }
  if (req.method === "GET" && path === "/test/stats") {
    return reply(res, 200, { jwks_fetches: jwksFetches });
  }
  if (path === "/jwks") jwksFetches += 1;
  return provider.callback()(req, res);
});

server.listen(0, "127.0.0.1", () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  makeProvider();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
