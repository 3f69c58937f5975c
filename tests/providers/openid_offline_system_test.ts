import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig } from "../support/bearer.ts";
import { type OidcProvider, startOidcProvider } from "../support/oidc_op.ts";
import { systemTest } from "../support/system.ts";

function provider(op: OidcProvider, name: string, extra = ""): string {
  return `  - type: openid-offline
    name: ${name}
    realm: ${op.realm}
    iam_url: ${op.iamUrl}
    cert_uri: ${op.jwksUri}
    public_client_id: ${op.publicClientId}
    private_client_id: ${op.privateClientId}
    private_client_secret: "${op.privateClientSecret}"
    issuer: ${op.issuer}
    audience: "${op.audience}"${extra}`;
}

systemTest(
  "openid-offline authenticates real offline tokens from oidc-provider; revoked and access tokens get 401",
  ["node", "npm"],
  async () => {
    await using op = await startOidcProvider({ realm: "ecmwf" });
    const alice = await op.getOfflineRefreshToken("alice");
    const bob = await op.getOfflineRefreshToken("bob");
    await using cached = await startGateway(
      bearerConfig(provider(op, "DESP", "\n    exchange_cache_ttl_s: 120")),
    );
    await using uncached = await startGateway(bearerConfig(provider(
      op,
      "DESP",
      "\n    introspection_cache_ttl_s: 0\n    exchange_cache_ttl_s: 0",
    )));

    const ok = await authenticateBearer(cached, alice);
    assert.equal(ok.status, 200);
    assert.equal(ok.claims?.username, "alice");
    assert.equal(ok.claims?.realm, "ecmwf");
    assert.deepEqual(ok.claims?.roles, ["admins", "users"]);
    assert.deepEqual(ok.claims?.scopes, { DESP: ["openid", "offline_access"] });
    const attributes = ok.claims?.attributes as Record<string, string>;
    assert.equal(attributes.iss, op.issuer);
    assert.ok(!JSON.stringify(ok.claims).includes(alice), "the offline token is not copied");

    const second = await authenticateBearer(uncached, bob);
    assert.equal(second.status, 200);
    assert.deepEqual([second.claims?.username, second.claims?.roles], ["bob", ["users"]]);
    // Not cached: the same offline token works again (no rotation, as Keycloak).
    assert.equal((await authenticateBearer(uncached, bob)).status, 200);

    // An access token is not an offline token: the exchange refuses it.
    const exchange = await fetch(op.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: op.publicClientId,
        refresh_token: bob,
      }),
    });
    const { access_token: accessToken } = await exchange.json();
    assert.equal(typeof accessToken, "string");
    assert.equal((await authenticateBearer(uncached, accessToken)).status, 401);

    assert.equal((await authenticateBearer(uncached, alice)).status, 200);
    await op.revokeToken(alice);
    assert.equal((await authenticateBearer(uncached, alice)).status, 401);
    // Within the cache TTLs (120 s here) the cached verdict still stands: the
    // documented revocation latency.
    assert.equal((await authenticateBearer(cached, alice)).status, 200);
    assert.equal((await authenticateBearer(cached, "not-a-token")).status, 401);
  },
);
