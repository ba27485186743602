// CUSTOM_AUTH with amazon-cognito-identity-js: sendCustomChallengeAnswer, with or without SRP first.
// Input (stdin, JSON): {endpoint, userPoolId, clientId, username, password?, answers: [..], clientMetadata?}
//   with a password: authenticateUser (CUSTOM_AUTH with SRP_A, then PASSWORD_VERIFIER);
//   without: initiateAuth (the custom challenges alone).
// Output (stdout, JSON): {ok: true, accessToken, challenges: [params...]} or {ok: false, code, message, challenges}
import pkg from "amazon-cognito-identity-js";
const { AuthenticationDetails, CognitoUser, CognitoUserPool } = pkg;

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

const pool = new CognitoUserPool({ UserPoolId: input.userPoolId, ClientId: input.clientId, endpoint: input.endpoint });
const user = new CognitoUser({ Username: input.username, Pool: pool });
user.setAuthenticationFlowType("CUSTOM_AUTH");
const details = new AuthenticationDetails({
  Username: input.username,
  Password: input.password,
  ClientMetadata: input.clientMetadata,
});
const answers = [...input.answers];
const challenges = [];

const result = await new Promise((resolve) => {
  const callbacks = {
    onSuccess: (session) => resolve({ ok: true, accessToken: session.getAccessToken().getJwtToken(), challenges }),
    onFailure: (err) => resolve({ ok: false, code: err.code || err.name, message: err.message, challenges }),
    customChallenge: (params) => {
      challenges.push(params);
      if (!answers.length) return resolve({ ok: false, code: "NoMoreAnswers", message: "", challenges });
      user.sendCustomChallengeAnswer(answers.shift(), callbacks, input.clientMetadata);
    },
  };
  if (input.password) user.authenticateUser(details, callbacks);
  else user.initiateAuth(details, callbacks);
});
process.stdout.write(JSON.stringify(result));
