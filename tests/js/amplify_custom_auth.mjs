// Amplify JS v6 signIn with authFlowType CUSTOM_WITH_SRP or CUSTOM_WITHOUT_SRP, then confirmSignIn.
// Input (stdin, JSON): {endpoint, userPoolId, clientId, username, password?, authFlowType, answers: [..]}
// Output (stdout, JSON): {ok: true, accessToken, username, steps: [..]} or {ok: false, name, message, steps}
import { Amplify } from "aws-amplify";
import { confirmSignIn, fetchAuthSession, getCurrentUser, signIn } from "aws-amplify/auth";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: input.userPoolId,
      userPoolClientId: input.clientId,
      userPoolEndpoint: input.endpoint,
    },
  },
});

const steps = [];
try {
  let out = await signIn({
    username: input.username,
    password: input.password,
    options: { authFlowType: input.authFlowType },
  });
  steps.push(out.nextStep);
  const answers = [...input.answers];
  while (!out.isSignedIn && out.nextStep.signInStep === "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE" && answers.length) {
    out = await confirmSignIn({ challengeResponse: answers.shift() });
    steps.push(out.nextStep);
  }
  if (!out.isSignedIn) {
    process.stdout.write(JSON.stringify({ ok: false, name: "NotSignedIn", message: "", steps }));
  } else {
    const session = await fetchAuthSession();
    const current = await getCurrentUser();
    process.stdout.write(JSON.stringify({
      ok: true, accessToken: session.tokens.accessToken.toString(), username: current.username, steps,
    }));
  }
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, name: err.name, message: err.message, steps }));
}
