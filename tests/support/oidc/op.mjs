// A Keycloak-like OpenID Connect provider for system tests: panva's oidc-provider (npm, v9) under
// Node 20, in-memory storage, the built-in dev login/consent forms (any username, any password).
// Started by tests/support/oidc_op.ts, configured by the JSON in env OIDC_OP_CONFIG:
//   { port, realm, privateClientId, privateClientSecret, publicClientId, redirectUri, audience }
//
// Keycloak's URL layout: issuer http://127.0.0.1:PORT/realms/REALM, and under it
//   /protocol/openid-connect/{auth,token,token/introspect,certs,userinfo,revoke,logout}
// (the provider is mounted at /realms/REALM the way express mounts it: req.url loses the prefix,
// req.originalUrl keeps it).
//
// Clients (Keycloak's offline-token setup as the gateway's `openid-offline` provider uses it):
//   * publicClientId: a public client (no secret, PKCE) that users log in with; it receives the
//     offline_access refresh tokens.
//   * privateClientId/privateClientSecret: a confidential client that introspects tokens.
// The gateway exchanges a refresh token with Basic auth of the PRIVATE client plus the form field
// client_id=<public client>. Keycloak accepts that because a client_id form field overrides the
// client named in the Basic header (ClientIdAndSecretAuthenticator), and a public client needs no
// secret. oidc-provider instead rejects "client_id mismatch", so the request handler below applies
// Keycloak's rule before oidc-provider sees the token request: when the form client_id differs from
// the Basic one, the request is re-authenticated as the form client (no Authorization header for a
// public client; the Basic secret for a confidential one). A wrong public client_id therefore fails
// the exchange exactly as with Keycloak (invalid_grant: the token belongs to another client).
//
// Tokens: refresh tokens only with scope offline_access (prompt=consent); no rotation (Keycloak's
// default, so the gateway may present the same offline token many times). Access tokens are RS256
// JWTs for the resource `audience` with kid, sub, scope, exp, preferred_username and
// realm_access.roles, verifiable with the JWKS at .../protocol/openid-connect/certs.
import * as jose from "jose";
import { Buffer } from "node:buffer";
import http from "node:http";
import process from "node:process";

// Node resolves this from ./node_modules. The specifier is computed because `deno check tests/`
// also collects .mjs files and must not try to resolve this Node-only package.
const OIDC_PROVIDER_PACKAGE = "oidc-provider";
const { default: Provider } = await import(OIDC_PROVIDER_PACKAGE);

const cfg = JSON.parse(process.env.OIDC_OP_CONFIG ?? "{}");
const MOUNT = `/realms/${cfg.realm}`;
const ISSUER = `http://127.0.0.1:${cfg.port}${MOUNT}`;
const OIDC = "/protocol/openid-connect";
const SCOPES = ["openid", "offline_access", "profile", "email"];

/** Realm roles by username (`realm_access.roles`); unknown users get none. */
const ROLES = { alice: ["admins", "users"], bob: ["users"] };

const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const signingKey = {
  ...(await jose.exportJWK(privateKey)),
  kid: "authotron-test-rs256",
  alg: "RS256",
  use: "sig",
};

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: cfg.publicClientId,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [cfg.redirectUri],
      scope: SCOPES.join(" "),
    },
    {
      client_id: cfg.privateClientId,
      client_secret: cfg.privateClientSecret,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomUUID()] },
  scopes: SCOPES,
  claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email"] },
  findAccount(_ctx, id) {
    return {
      accountId: id,
      claims: () => ({ sub: id, name: id, preferred_username: id, email: `${id}@example.org` }),
    };
  },
  routes: {
    authorization: `${OIDC}/auth`,
    token: `${OIDC}/token`,
    introspection: `${OIDC}/token/introspect`,
    revocation: `${OIDC}/revoke`,
    jwks: `${OIDC}/certs`,
    userinfo: `${OIDC}/userinfo`,
    end_session: `${OIDC}/logout`,
  },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => cfg.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPES.join(" "),
        audience: cfg.audience,
        accessTokenTTL: 300,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  extraTokenClaims(_ctx, token) {
    if (!token.accountId) return undefined;
    return {
      preferred_username: token.accountId,
      realm_access: { roles: ROLES[token.accountId] ?? [] },
    };
  },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    IdToken: 300,
    RefreshToken: 86400,
    Grant: 86400,
    Interaction: 600,
    Session: 86400,
  },
  rotateRefreshToken: false,
  issueRefreshToken: (_ctx, client, code) =>
    client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
});
provider.on(
  "server_error",
  (_ctx, error) => process.stderr.write(`server_error ${error?.stack ?? error}\n`),
);

const PUBLIC_CLIENTS = new Set([cfg.publicClientId]);

/** Keycloak's client selection on the token endpoint (see the header comment). */
async function applyKeycloakClientRule(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  req.body = raw; // oidc-provider reads req.body once the stream is consumed
  const formClientId = new URLSearchParams(raw.toString("utf8")).get("client_id");
  const basic = Buffer.from(req.headers.authorization.slice(6), "base64").toString("utf8");
  const colon = basic.indexOf(":");
  if (colon < 0 || !formClientId) return;
  const basicClientId = decodeURIComponent(basic.slice(0, colon));
  if (formClientId === basicClientId) return;
  if (PUBLIC_CLIENTS.has(formClientId)) {
    delete req.headers.authorization;
  } else {
    const secret = basic.slice(colon + 1);
    req.headers.authorization = `Basic ${
      Buffer.from(`${encodeURIComponent(formClientId)}:${secret}`).toString("base64")
    }`;
  }
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (req.url !== MOUNT && !req.url.startsWith(`${MOUNT}/`) && !req.url.startsWith(`${MOUNT}?`)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  req.originalUrl = req.url;
  req.url = req.url.slice(MOUNT.length) || "/";
  if (
    req.method === "POST" && req.url === `${OIDC}/token` &&
    /^basic /i.test(req.headers.authorization ?? "")
  ) {
    await applyKeycloakClientRule(req);
  }
  callback(req, res);
});
server.listen(cfg.port, "127.0.0.1", () => process.stdout.write(`READY ${ISSUER}\n`));
function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
