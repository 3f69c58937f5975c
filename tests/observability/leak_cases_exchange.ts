/**
 * Secret-leak cases for the exchange providers (`openid-offline`,
 * `ecmwf-token-generator`): offline/refresh tokens, the gateway's client
 * secret, the exchanged access tokens and the keys that sign them, through
 * success, refusal, upstream 500, timeout and rejected client credentials.
 *
 * @module
 */

import { base64url, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { faults, json, startIdentityUpstream } from "../support/identity_upstream.ts";
import { basicSecrets, type LeakCase, privateJwkMembers } from "./leak_case.ts";

const now = () => Math.floor(Date.now() / 1000);
const bearer = (token: string) => `Bearer ${token}`;

/** Offline/refresh tokens by behaviour (the fake upstreams answer by them). */
function offlineTokens(prefix: string) {
  return {
    good: `${prefix}-good-4d1e7a`,
    inactive: `${prefix}-inactive-9b3c2f`,
    checkBoom: `${prefix}-check-boom-6a0e11`,
    checkForbidden: `${prefix}-check-forbidden-2c4d`,
    refused: `${prefix}-exchange-refused-7f8e`,
    hang: `${prefix}-exchange-hang-1a2b3c`,
    expired: `${prefix}-exchange-expired-5d6e`,
    wrongClient: `${prefix}-wrong-client-8c9d0e`,
  };
}

const OIDC_SECRET = "oidc-client-secret-3e5a7c9b";
const OIDC_WRONG_SECRET = "oidc-wrong-client-secret-0b2d4f";
const OIDC_CLIENT = "gateway-private";

/** `openid-offline` against a Keycloak-shaped server (introspection, exchange, certs). */
export const OPENID_OFFLINE_CASE: LeakCase = {
  name: "openid-offline (client secret, offline and access tokens, RSA key)",
  covers: ["providers/openid-offline"],
  async setup() {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = "kc-leak-rs256";
    const sign = (exp: number) =>
      new SignJWT({ sub: "8f1c", preferred_username: "adam", scope: "openid offline_access" })
        .setProtectedHeader({ alg: "RS256", kid }).setExpirationTime(exp).sign(privateKey);
    const access = await sign(now() + 300);
    const expired = await sign(now() - 3600);
    const t = offlineTokens("oidc-offline");
    const known = new Set<string>(Object.values(t));
    const clientAuth = `Basic ${btoa(`${OIDC_CLIENT}:${OIDC_SECRET}`)}`;
    const certs = `/certs/${crypto.randomUUID()}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256" };
    const up = startIdentityUpstream((req) => {
      if (req.path === certs) return json({ keys: [jwk] });
      if (req.headers.get("authorization") !== clientAuth) {
        return json({ error: "unauthorized_client" }, 401);
      }
      const form = new URLSearchParams(req.body);
      if (req.path.endsWith("/token/introspect")) {
        const token = form.get("token");
        if (token === t.checkBoom) return faults.status(500);
        if (token === t.checkForbidden) return json({ error: "forbidden" }, 403);
        if (!known.has(token ?? "") || token === t.inactive) return json({ active: false });
        return json({ active: true, scope: "openid offline_access" });
      }
      if (req.path.endsWith("/token")) {
        const token = form.get("refresh_token");
        if (token === t.refused) return json({ error: "invalid_grant" }, 400);
        if (token === t.hang) return faults.hang(req);
        if (token === t.expired) return json({ access_token: expired });
        return json({ access_token: access, expires_in: 300, refresh_token: token });
      }
      return faults.status(404);
    });
    const provider = (realm: string, secret: string) => `
  - type: openid-offline
    name: DESP ${realm}
    realm: ${realm}
    iam_url: ${up.url}/
    cert_uri: ${up.url}${certs}
    public_client_id: gateway-public
    private_client_id: ${OIDC_CLIENT}
    private_client_secret: "${secret}"`;
    const realm = "desp";
    return {
      providers: provider(realm, OIDC_SECRET) + provider("wrongclient", OIDC_WRONG_SECRET),
      steps: [
        { authorization: bearer(t.good), realm, status: 200 },
        { authorization: bearer(t.good), realm, status: 200 },
        { authorization: bearer(t.inactive), realm, status: 401 },
        { authorization: bearer(t.checkBoom), realm, status: 503 },
        { authorization: bearer(t.checkForbidden), realm, status: 503 },
        { authorization: bearer(t.refused), realm, status: 401 },
        { authorization: bearer(t.hang), realm, status: 503 },
        { authorization: bearer(t.expired), realm, status: 401 },
        { authorization: bearer(access), realm, status: 401 }, // an access token is no offline token
        { authorization: bearer(t.wrongClient), realm: "wrongclient", status: 503 },
      ],
      secrets: [
        ...Object.values(t),
        ...basicSecrets(`${OIDC_CLIENT}:${OIDC_SECRET}`),
        ...basicSecrets(`${OIDC_CLIENT}:${OIDC_WRONG_SECRET}`),
        access,
        expired,
        ...privateJwkMembers(await exportJWK(privateKey)),
      ],
      [Symbol.asyncDispose]: () => up[Symbol.asyncDispose](),
    };
  },
};

const TOKGEN_SECRET = "tokgen-client-secret-5b7d9f1a";
const TOKGEN_WRONG_SECRET = "tokgen-wrong-client-secret-2e4c";
const TOKGEN_HMAC = "tokgen-hs512-access-signing-key-8a6c4e2b0d";

function generatorClaims(exp: number): JWTPayload {
  return { sub: "adam", scope: "offline_access email", exp, username: "demo-user" };
}

/** `ecmwf-token-generator` against a fake generator whose JWKS publishes an HS512 secret. */
export const TOKEN_GENERATOR_CASE: LeakCase = {
  name: "ecmwf-token-generator (client secret, refresh and access tokens, HS512 key)",
  covers: ["providers/ecmwf-token-generator"],
  async setup() {
    const hmac = new TextEncoder().encode(TOKGEN_HMAC);
    const kid = "access-key";
    const sign = (exp: number) =>
      new SignJWT(generatorClaims(exp)).setProtectedHeader({ alg: "HS512", kid }).sign(hmac);
    const access = await sign(now() + 300);
    const expired = await sign(now() - 3600);
    const t = offlineTokens("tokgen-refresh");
    const known = new Set<unknown>(Object.values(t));
    const jwks = `/jwks/${crypto.randomUUID()}`;
    const up = startIdentityUpstream((req) => {
      if (req.path === jwks) {
        return json({ keys: [{ kty: "oct", k: base64url.encode(hmac), alg: "HS512", kid }] });
      }
      const body = req.method === "POST" ? JSON.parse(req.body || "{}") : {};
      if (req.path === "/validate-token") {
        if (body.token === t.checkBoom) return faults.status(500);
        if (body.token === t.checkForbidden) return json({ error: "bad" }, 403);
        return json({ active: known.has(body.token) && body.token !== t.inactive });
      }
      if (req.path === "/admin/refresh-access-token") {
        if (body.client_secret !== TOKGEN_SECRET) return faults.status(401);
        if (body.refresh_token === t.refused) return json({ error: "invalid_grant" }, 400);
        if (body.refresh_token === t.hang) return faults.hang(req);
        if (body.refresh_token === t.expired) return json({ access_token: expired });
        return json({ access_token: access, expires_in: 300 });
      }
      return faults.status(404);
    });
    const provider = (realm: string, secret: string) => `
  - type: ecmwf-token-generator
    name: Token Generator ${realm}
    realm: ${realm}
    cert_uri: ${up.url}${jwks}
    client_id: polytope
    client_secret: ${secret}
    token_generator_url: ${up.url}`;
    const realm = "ecmwf";
    return {
      providers: provider(realm, TOKGEN_SECRET) + provider("wrongclient", TOKGEN_WRONG_SECRET),
      steps: [
        { authorization: bearer(t.good), realm, status: 200 },
        { authorization: bearer(t.good), realm, status: 200 },
        { authorization: bearer(t.inactive), realm, status: 401 },
        { authorization: bearer(t.checkBoom), realm, status: 503 },
        { authorization: bearer(t.checkForbidden), realm, status: 401 },
        { authorization: bearer(t.refused), realm, status: 401 },
        { authorization: bearer(t.hang), realm, status: 503 },
        { authorization: bearer(t.expired), realm, status: 401 },
        { authorization: bearer(t.wrongClient), realm: "wrongclient", status: 503 },
      ],
      secrets: [
        ...Object.values(t),
        TOKGEN_SECRET,
        TOKGEN_WRONG_SECRET,
        TOKGEN_HMAC,
        base64url.encode(hmac),
        access,
        expired,
      ],
      [Symbol.asyncDispose]: () => up[Symbol.asyncDispose](),
    };
  },
};
