import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import openidOffline, { hasOfflineAccess } from "../../providers/openid_offline.ts";
import { startGateway } from "../support/gateway.ts";
import {
  authenticateBearer,
  bearerConfig,
  reportMeasurement,
  statusesInTurn,
} from "../support/bearer.ts";
import { assertEachKeyRequired } from "../support/plugin_context.ts";
import {
  fault,
  FAULT_MODES,
  type IdentityUpstream,
  isFaultMode,
  json,
  type RecordedRequest,
  startIdentityUpstream,
} from "../support/identity_upstream.ts";

const { privateKey, publicKey } = await generateKeyPair("RS256");
const PUBLIC_JWK = { ...(await exportJWK(publicKey)), kid: "kc-rs256", alg: "RS256", use: "sig" };
const BASE = "/realms/ecmwf/protocol/openid-connect";
const BASIC = `Basic ${btoa("gateway-private:s3cr3t:with:colons")}`;
const NASTY = "offl&ine#tok+en=/x%";

function accessToken(claims: JWTPayload = {}, expires: string | number = "5m"): Promise<string> {
  return new SignJWT({
    sub: "8f1c-uuid",
    preferred_username: "adam",
    scope: "openid offline_access",
    realm_access: { roles: ["users", "admins"] },
    email: "adam@example.int",
    ...claims,
  }).setProtectedHeader({ alg: "RS256", kid: "kc-rs256" }).setExpirationTime(expires).sign(
    privateKey,
  );
}

const ACCESS = await accessToken();
const EXPIRED = await accessToken({}, Math.floor(Date.now() / 1000) - 3600);

interface Keycloak extends IdentityUpstream {
  readonly certsPath: string;
}

/** A Keycloak-shaped fake that checks client auth and answers by token. */
function startKeycloak(): Keycloak {
  const certsPath = `${BASE}/certs/${crypto.randomUUID()}`;
  const handler = (req: RecordedRequest): Response | Promise<Response> => {
    if (req.path === certsPath) return json({ keys: [PUBLIC_JWK] });
    if (req.method !== "POST") return new Response(null, { status: 405 });
    if (req.headers.get("authorization") !== BASIC) {
      return json({ error: "unauthorized_client" }, 401);
    }
    const form = new URLSearchParams(req.body);
    if (req.path === `${BASE}/token/introspect`) {
      const token = form.get("token") ?? "";
      const [step, mode] = token.split(":");
      if (step === "introspect" && isFaultMode(mode)) {
        return fault(mode, req, { active: true, scope: "offline_access" }, req.path);
      }
      if (token === "inactive") return json({ active: false });
      if (token === "online") return json({ active: true, scope: "openid profile" });
      if (token === "lookalike") return json({ active: true, scope: "no_offline_access_x" });
      if (token === "string-active") return json({ active: "true", scope: "offline_access" });
      if (token === "no-scope") return json({ active: true });
      return json({ active: true, scope: "openid offline_access profile", typ: "Offline" });
    }
    if (req.path === `${BASE}/token`) {
      const token = form.get("refresh_token") ?? "";
      const [step, mode] = token.split(":");
      if (step === "exchange" && isFaultMode(mode)) {
        return fault(mode, req, { access_token: ACCESS }, req.path);
      }
      if (token === "exchange:invalid-grant") {
        return json({ error: "invalid_grant", error_description: "Invalid refresh token" }, 400);
      }
      if (token === "exchange:no-access-token") return json({ token_type: "Bearer" });
      if (token === "exchange:rotates") {
        return json({ access_token: ACCESS, refresh_token: "rotated-refresh-secret" });
      }
      if (token === "exchange:expired") return json({ access_token: EXPIRED });
      if (token === "slow") {
        return new Promise((r) => setTimeout(() => r(json({ access_token: ACCESS })), 300));
      }
      return json({ access_token: ACCESS, expires_in: 300, refresh_token: token });
    }
    return new Response(null, { status: 404 });
  };
  return Object.assign(startIdentityUpstream(handler), { certsPath });
}

function provider(kc: Keycloak, secret = "s3cr3t:with:colons"): string {
  return `  - type: openid-offline
    name: DESP
    realm: ecmwf
    iam_url: ${kc.url}/
    cert_uri: ${kc.url}${kc.certsPath}
    public_client_id: gateway-public
    private_client_id: gateway-private
    private_client_secret: "${secret}"`;
}

const introspected = (kc: Keycloak, token: string) =>
  kc.hits(`${BASE}/token/introspect`).filter((r) =>
    new URLSearchParams(r.body).get("token") === token
  ).length;
const exchanged = (kc: Keycloak, token: string) =>
  kc.hits(`${BASE}/token`).filter((r) => new URLSearchParams(r.body).get("refresh_token") === token)
    .length;

Deno.test("openid-offline introspects, exchanges and validates an offline token end to end", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc)));
  const result = await authenticateBearer(gw, NASTY);
  assert.equal(result.status, 200);
  const [introspect] = kc.hits(`${BASE}/token/introspect`);
  assert.equal(introspect.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(introspect.headers.get("authorization"), BASIC);
  assert.equal(introspect.body, "token=offl%26ine%23tok%2Ben%3D%2Fx%25");
  const [exchange] = kc.hits(`${BASE}/token`);
  assert.equal(exchange.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(exchange.headers.get("authorization"), BASIC);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(exchange.body)), {
    client_id: "gateway-public",
    grant_type: "refresh_token",
    refresh_token: NASTY,
  });
  const claims = result.claims!;
  assert.equal(claims.username, "adam");
  assert.equal(claims.realm, "ecmwf");
  assert.deepEqual(claims.roles, ["users", "admins"]);
  assert.deepEqual(claims.scopes, { DESP: ["openid", "offline_access"] });
  const attributes = claims.attributes as Record<string, string>;
  assert.equal(attributes.email, "adam@example.int");
  assert.ok(!JSON.stringify(claims).includes(NASTY));
  // Introspection (120 s) and exchange (10 s) are cached; the JWKS was fetched once.
  assert.equal((await authenticateBearer(gw, NASTY)).status, 200);
  assert.deepEqual([introspected(kc, NASTY), exchanged(kc, NASTY), kc.hits(kc.certsPath).length], [
    1,
    1,
    1,
  ]);
});

Deno.test("openid-offline warns (token_rotated) when the exchange answer rotates the offline token (U04)", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc)));
  assert.equal((await authenticateBearer(gw, NASTY)).status, 200);
  assert.ok(
    !gw.logs.join("\n").includes("token_rotated"),
    "the same refresh_token back: no warning",
  );
  assert.equal((await authenticateBearer(gw, "exchange:rotates")).status, 200);
  const warned = gw.logs.filter((line) => line.includes("providers.openid_offline.token_rotated"));
  assert.equal(warned.length, 1);
  assert.match(warned[0], /"severityText":"WARN"/);
  const logs = gw.logs.join("\n");
  assert.ok(!logs.includes("rotated-refresh-secret") && !logs.includes("exchange:rotates"));
});

Deno.test("openid-offline rejects inactive and non-offline tokens with 401 and never exchanges them", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc)));
  const tokens = ["inactive", "online", "lookalike", "string-active", "no-scope"];
  for (const token of tokens) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, token);
    assert.equal(result.retryAfter, null, token);
  }
  assert.equal(kc.hits(`${BASE}/token`).length, 0);
  // The rejection is cached only briefly (10 s by default): a repeat makes no call.
  assert.equal((await authenticateBearer(gw, "inactive")).status, 401);
  assert.equal(introspected(kc, "inactive"), 1);
});

Deno.test("openid-offline: a refused exchange (invalid_grant) or an expired access token is 401", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc)));
  assert.equal((await authenticateBearer(gw, "exchange:invalid-grant")).status, 401);
  assert.equal((await authenticateBearer(gw, "exchange:expired")).status, 401);
  // The refused token's cached introspection was dropped: it is introspected again.
  assert.equal((await authenticateBearer(gw, "exchange:invalid-grant")).status, 401);
  assert.equal(introspected(kc, "exchange:invalid-grant"), 2);
});

Deno.test("openid-offline upstream faults in either step answer 503, are not cached, and 401 with upstream_failure_status: 401", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc), { timeoutMs: 1500 }));
  await using legacy = await startGateway(
    bearerConfig(provider(kc), { timeoutMs: 1500, upstreamFailureStatus: 401 }),
  );
  const tokens = [
    ...FAULT_MODES.flatMap((mode) => [`introspect:${mode}`, `exchange:${mode}`]),
    "exchange:no-access-token",
  ];
  const results = await statusesInTurn([gw, gw, legacy], tokens);
  for (const { token, statuses } of results) assert.deepEqual(statuses, [503, 503, 401], token);
  for (const mode of FAULT_MODES) {
    assert.equal(introspected(kc, `introspect:${mode}`), 3, mode);
    assert.equal(exchanged(kc, `introspect:${mode}`), 0, mode);
    assert.equal(exchanged(kc, `exchange:${mode}`), 3, mode);
  }
});

Deno.test("openid-offline: a wrong client secret is an upstream failure (503), not a verdict on the token", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc, "wrong")));
  const result = await authenticateBearer(gw, "good-token");
  assert.equal(result.status, 503);
  assert.ok(
    gw.logs.some((line) => line.includes("refused the gateway's client credentials")),
    "the reason is logged",
  );
  assert.ok(!gw.logs.some((line) => line.includes("good-token")), "the token is never logged");
});

Deno.test("openid-offline makes one introspection, one exchange and one JWKS call for 100 concurrent requests", async () => {
  await using kc = startKeycloak();
  await using gw = await startGateway(bearerConfig(provider(kc)));
  const results = await Promise.all(
    Array.from({ length: 100 }, () => authenticateBearer(gw, "slow")),
  );
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  const calls = [introspected(kc, "slow"), exchanged(kc, "slow"), kc.hits(kc.certsPath).length];
  reportMeasurement("openid-offline introspections for 100 concurrent identical tokens", calls[0]);
  reportMeasurement("openid-offline exchanges for 100 concurrent identical tokens", calls[1]);
  reportMeasurement("openid-offline JWKS fetches for 100 concurrent identical tokens", calls[2]);
  assert.deepEqual(calls, [1, 1, 1]);
});

Deno.test("hasOfflineAccess() needs offline_access as a whole scope word", () => {
  assert.equal(hasOfflineAccess("openid offline_access"), true);
  assert.equal(hasOfflineAccess("offline_access"), true);
  assert.equal(hasOfflineAccess("no_offline_access_x"), false);
  assert.equal(hasOfflineAccess(["offline_access"]), false);
  assert.equal(hasOfflineAccess(undefined), false);
});

Deno.test("openid-offline parseOptions names every missing required key", () => {
  const full = {
    iam_url: "https://iam.example",
    cert_uri: "https://iam.example/certs",
    public_client_id: "pub",
    private_client_id: "priv",
    private_client_secret: "secret",
  };
  assertEachKeyRequired(openidOffline.parseOptions!, full);
  const parsed = openidOffline.parseOptions!(full);
  assert.deepEqual([parsed.checkCache.ttlMs, parsed.exchangeCache.ttlMs], [120_000, 10_000]);
  assert.deepEqual([parsed.checkCache.negativeTtlMs, parsed.exchangeCache.negativeTtlMs], [
    10_000,
    10_000,
  ]);
});
