// Verifies Cognate's tokens with AWS's own aws-jwt-verify.
// Input (stdin, JSON): {mode: "generic"|"cognito", issuer, jwksUri, jwks, userPoolId, clientId, idToken, accessToken}
// Output (stdout, JSON): {id: {ok, payload|error}, access: {...}, tampered: {...}}
import { JwtVerifier, CognitoJwtVerifier } from "aws-jwt-verify";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

async function check(verifier, token) {
  try {
    return { ok: true, payload: await verifier.verify(token) };
  } catch (err) {
    return { ok: false, error: `${err.name}: ${err.message}` };
  }
}

let idVerifier, accessVerifier;
if (input.mode === "cognito") {
  idVerifier = CognitoJwtVerifier.create({ userPoolId: input.userPoolId, tokenUse: "id", clientId: input.clientId });
  accessVerifier = CognitoJwtVerifier.create({ userPoolId: input.userPoolId, tokenUse: "access", clientId: input.clientId });
  // The app loads the JWKS from Cognate instead of AWS.
  idVerifier.cacheJwks(input.jwks);
  accessVerifier.cacheJwks(input.jwks);
} else {
  idVerifier = JwtVerifier.create({ issuer: input.issuer, audience: input.clientId, jwksUri: input.jwksUri });
  accessVerifier = JwtVerifier.create({
    issuer: input.issuer,
    audience: null,
    jwksUri: input.jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload.token_use !== "access" || payload.client_id !== input.clientId) throw new Error("not our access token");
    },
  });
}
const parts = input.idToken.split(".");
const tamperedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(parts[1], "base64url")), sub: "someone-else" })).toString("base64url");
const out = {
  id: await check(idVerifier, input.idToken),
  access: await check(accessVerifier, input.accessToken),
  tampered: await check(idVerifier, `${parts[0]}.${tamperedPayload}.${parts[2]}`),
  idAsAccess: await check(accessVerifier, input.idToken),
};
process.stdout.write(JSON.stringify(out));
