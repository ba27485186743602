// A single-page app as Amplify JS v6 users write it: managed login by redirect, then sign-out.
// Bundled by esbuild (tests/js/node_modules) for the browser tests; its config comes from the page.
import { Amplify } from "aws-amplify";
import { fetchAuthSession, getCurrentUser, signInWithRedirect, signOut } from "aws-amplify/auth";
import "aws-amplify/auth/enable-oauth-listener";
import { Hub } from "aws-amplify/utils";

const config = JSON.parse(document.getElementById("config").textContent);
Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.clientId,
      loginWith: {
        oauth: {
          domain: config.domain,
          scopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
          redirectSignIn: [config.appUrl + "/"],
          redirectSignOut: [config.appUrl + "/"],
          responseType: "code",
        },
      },
    },
  },
});

window.hubEvents = [];
Hub.listen("auth", ({ payload }) => window.hubEvents.push(payload.event));

window.amplifySignIn = () => signInWithRedirect();
window.amplifySignOut = () => signOut();
window.amplifyWhoAmI = async () => {
  try {
    const user = await getCurrentUser();
    const session = await fetchAuthSession();
    return {
      username: user.username,
      idToken: session.tokens?.idToken?.toString() ?? null,
      accessToken: session.tokens?.accessToken?.toString() ?? null,
    };
  } catch (error) {
    return { error: String(error && error.name) };
  }
};
window.amplifyReady = true;
