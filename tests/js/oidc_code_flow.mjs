// openid-client (panva) against Cognate: discovery, authorization code with PKCE, the ID token's
// checks, userInfo, refresh and the RP-initiated logout URL. The sign-in form is filled like a
// browser would (fetch with a small cookie jar, every hidden input, the CSRF token included).
// Input (stdin, JSON): {issuer, clientId, redirectUri, postLogoutRedirectUri, username, password}
// Output (stdout, JSON): {userinfo, idClaims, refreshed, logout, afterLogout}
import * as client from "openid-client";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

const jar = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (/max-age=0/i.test(line) || value === "") jar.delete(name); else jar.set(name, value);
  }
}
function cookies() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}
async function browse(url, init = {}) {
  const response = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers || {}), cookie: cookies() } });
  remember(response);
  return response;
}
// Follow redirects until the app's callback (returned, not followed) or a page.
async function walk(url) {
  let response = await browse(url);
  for (let i = 0; i < 10 && [301, 302, 303].includes(response.status); i++) {
    const next = new URL(response.headers.get("location"), url).href;
    if (next.startsWith(input.redirectUri)) return { callback: next };
    url = next;
    response = await browse(url);
  }
  return { page: await response.text(), url };
}
function hiddenInputs(html) {
  const fields = {};
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0]);
    const value = /value="([^"]*)"/.exec(m[0]);
    if (name && /type="hidden"/.test(m[0])) fields[name[1]] = value ? value[1].replace(/&amp;/g, "&").replace(/&#34;|&quot;/g, '"') : "";
  }
  return fields;
}

const config = await client.discovery(new URL(input.issuer), input.clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
});
const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: input.redirectUri,
  scope: "openid email profile",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  nonce,
  state,
});

let step = await walk(authUrl.href);
if (!step.callback) {
  const form = { ...hiddenInputs(step.page), username: input.username, password: input.password };
  const posted = await browse(new URL("/login", step.url).href, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const location = new URL(posted.headers.get("location"), step.url).href;
  step = location.startsWith(input.redirectUri) ? { callback: location } : await walk(location);
}
if (!step.callback) throw new Error("no callback after sign-in: " + step.page.slice(0, 500));

const tokens = await client.authorizationCodeGrant(config, new URL(step.callback), {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
  idTokenExpected: true,
});
const idClaims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const logout = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: input.postLogoutRedirectUri,
});
const out = await browse(logout.href);
if (out.status !== 302 || out.headers.get("location") !== input.postLogoutRedirectUri) {
  throw new Error(`logout answered ${out.status} ${out.headers.get("location")}`);
}
const again = await walk(authUrl.href);
process.stdout.write(JSON.stringify({
  userinfo,
  idClaims,
  refreshed: typeof refreshed.access_token === "string" && refreshed.access_token !== tokens.access_token,
  logout: logout.href,
  afterLogout: again.callback ? "callback" : (again.url.includes("/login") ? "login" : again.url),
}));
