import assert from "node:assert/strict";
import * as jose from "jose";
import { startOidcProvider } from "./oidc_op.ts";
import { systemTest } from "./system.ts";

/** POSTs a form the way the gateway's openid-offline provider does; returns status and JSON. */
async function gatewayPost(
  url: string,
  basic: string,
  form: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: response.status, json: await response.json() };
}

systemTest(
  "startOidcProvider() issues offline tokens that introspect, exchange for RS256 JWTs and revoke",
  ["node", "npm"],
  async () => {
    await using op = await startOidcProvider({ realm: "gw-test" });
    assert.equal(op.issuer, `${op.iamUrl}/realms/gw-test`);
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, op.issuer);
    assert.equal(discovery.jwks_uri, op.jwksUri);
    const base = `${op.iamUrl}/realms/${op.realm}/protocol/openid-connect`;
    assert.equal(discovery.introspection_endpoint, `${base}/token/introspect`);
    assert.equal(discovery.token_endpoint, `${base}/token`);

    const basic = `Basic ${btoa(`${op.privateClientId}:${op.privateClientSecret}`)}`;
    const offline = await op.getOfflineRefreshToken("alice");

    const introspection = await gatewayPost(`${base}/token/introspect`, basic, { token: offline });
    assert.equal(introspection.json.active, true);
    assert.match(String(introspection.json.scope), /offline_access/);
    assert.equal(introspection.json.sub, "alice");

    const jwks = jose.createRemoteJWKSet(new URL(op.jwksUri));
    // Refresh tokens are not rotated (Keycloak default): the same token works repeatedly.
    for (let i = 0; i < 2; i++) {
      const exchange = await gatewayPost(`${base}/token`, basic, {
        client_id: op.publicClientId,
        grant_type: "refresh_token",
        refresh_token: offline,
      });
      assert.equal(exchange.status, 200, JSON.stringify(exchange.json));
      const { payload, protectedHeader } = await jose.jwtVerify(
        String(exchange.json.access_token),
        jwks,
        {
          algorithms: ["RS256"],
          issuer: op.issuer,
        },
      );
      assert.equal(protectedHeader.kid, "authotron-test-rs256");
      assert.equal(payload.sub, "alice");
      assert.equal(payload.preferred_username, "alice");
      assert.deepEqual(payload.realm_access, { roles: ["admins", "users"] });
      assert.equal(payload.scope, "openid offline_access");
      assert.equal(typeof payload.exp, "number");
    }

    // Keycloak-like client handling: a wrong secret or a wrong public client_id fails.
    const wrongSecret = `Basic ${btoa(`${op.privateClientId}:nope`)}`;
    const rejected = await gatewayPost(`${base}/token/introspect`, wrongSecret, { token: offline });
    assert.equal(rejected.status, 401);
    const wrongClient = await gatewayPost(`${base}/token`, basic, {
      client_id: op.privateClientId,
      grant_type: "refresh_token",
      refresh_token: offline,
    });
    assert.equal(wrongClient.status, 400);
    assert.equal(wrongClient.json.access_token, undefined);
    assert.equal(
      (await gatewayPost(`${base}/token/introspect`, basic, { token: "not-a-token" })).json.active,
      false,
    );

    await op.revokeToken(offline);
    const revoked = await gatewayPost(`${base}/token/introspect`, basic, { token: offline });
    assert.equal(revoked.json.active, false);
    const afterRevoke = await gatewayPost(`${base}/token`, basic, {
      client_id: op.publicClientId,
      grant_type: "refresh_token",
      refresh_token: offline,
    });
    assert.equal(afterRevoke.json.error, "invalid_grant");
  },
);
