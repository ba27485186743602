// node's oidc-provider (panva; OpenID Certified) as the peer of the OAuth bench: one confidential
// client allowed client_credentials with one resource scope, RS256 access tokens as JWTs (the
// same work per request as Cognate: one RSA-2048 signature), in-memory adapter, no dev interactions.
// Usage: node bench/oidc_provider.mjs PORT '{"client_id": "...", "client_secret": "..."}'
// (oidc-provider is resolved from tests/js/node_modules: `npm install --no-save oidc-provider` there)
import { createRequire } from "node:module";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "tests", "js", "package.json"));
const { default: Provider } = await import(require.resolve("oidc-provider"));

const [port, clientJson] = process.argv.slice(2);
const client = JSON.parse(clientJson);
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "bench", alg: "RS256", use: "sig" };
const resource = "https://api.bench";

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [jwk] },
  scopes: ["api:read"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      getResourceServerInfo: () => ({ scope: "api:read", accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
      useGrantedResource: () => true,
    },
  },
});
provider.proxy = false;
http.createServer(provider.callback()).listen(Number(port), "127.0.0.1");
