// node's oidc-provider (a certified OpenID Provider) serving its JWKS: the peer of
// Cognate's /{pool}/.well-known/jwks.json. Two RSA-2048 signing keys, as a Cognate pool
// has (one for ID tokens, one for access tokens). Usage: node oidc_jwks.mjs PORT
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const keys = ["id", "access"].map((kid) => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
});
const provider = new Provider(`http://127.0.0.1:${port}`, { jwks: { keys }, clients: [] });
provider.listen(port, "127.0.0.1");
console.log(`oidc-provider on ${port}`);
