// A real OpenID provider for the tests: node-oidc-provider (a certified implementation), with one
// client that gets JWT access tokens by the client-credentials grant, and signing keys the test
// rotates and drops while the provider runs.
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
let jwksFetches = 0;
let issuer;
let provider;

// The provider's keys are fixed when it is made: a rotation makes a new one over the new keys.
// Its tokens are self-contained JWTs, so nothing is lost.
function makeProvider() {
  provider = new Provider(issuer, {
    clients: [{ ...CLIENT, grant_types: ["client_credentials"], redirect_uris: [], response_types: [] }],
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
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
