// Signs in with amazon-cognito-identity-js (USER_SRP_AUTH, as browsers and React Native apps do).
// Input (stdin, JSON): {endpoint, userPoolId, clientId, username, password, newPassword?}
// Output (stdout, JSON): {ok: true, idToken, accessToken, refreshToken} or {ok: false, code, message}
import pkg from "amazon-cognito-identity-js";
const { AuthenticationDetails, CognitoUser, CognitoUserPool } = pkg;

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

const pool = new CognitoUserPool({ UserPoolId: input.userPoolId, ClientId: input.clientId, endpoint: input.endpoint });
const user = new CognitoUser({ Username: input.username, Pool: pool });
const details = new AuthenticationDetails({ Username: input.username, Password: input.password });

const result = await new Promise((resolve) => {
  const callbacks = {
    onSuccess: (session) => resolve({
      ok: true,
      idToken: session.getIdToken().getJwtToken(),
      accessToken: session.getAccessToken().getJwtToken(),
      refreshToken: session.getRefreshToken().getToken(),
    }),
    onFailure: (err) => resolve({ ok: false, code: err.code || err.name, message: err.message }),
    newPasswordRequired: () => {
      if (!input.newPassword) return resolve({ ok: false, code: "NewPasswordRequired", message: "new password required" });
      user.completeNewPasswordChallenge(input.newPassword, {}, callbacks);
    },
  };
  user.authenticateUser(details, callbacks);
});
process.stdout.write(JSON.stringify(result));
