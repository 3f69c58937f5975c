import assert from "node:assert/strict";
import { base64url, type JWTPayload, SignJWT } from "jose";
import tokenGenerator from "../../providers/ecmwf_token_generator.ts";
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

const encoder = new TextEncoder();
const ACCESS_SECRET = encoder.encode("super-secret-signing-key");
const REFRESH_SECRET = encoder.encode("another-secret-for-refresh-tokens");
const EXP = 4102444800;

/** The claims of the original's integration test (spec 12.1). */
function claims(scope: string): JWTPayload {
  return {
    sub: "adam",
    scope,
    exp: EXP,
    iat: EXP - 10,
    iss: "https://token-generator.example/realms/ecmwf",
    jti: crypto.randomUUID(),
    azp: "polytope",
    client_id: "polytope",
    session_state: "state-1",
    sid: "sid-1",
    typ: "Offline",
    username: "demo-user",
    realm_access: { roles: ["user", "admin"] },
  };
}

function sign(payload: JWTPayload, kid: string, secret: Uint8Array): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS512", kid, typ: "JWT" }).sign(secret);
}

const REFRESH = await sign(claims("offline_access email"), "refresh-key", REFRESH_SECRET);
const ACCESS = await sign(claims("offline_access email profile"), "access-key", ACCESS_SECRET);
const FOREIGN_ACCESS = await sign(claims("openid"), "access-key", encoder.encode("wrong-secret"));

/** A fake ECMWF token generator with its JWKS at a unique path (JWKS caches are per URI). */
interface Generator extends IdentityUpstream {
  readonly jwksPath: string;
}

function startGenerator(): Generator {
  const jwksPath = `/jwks/${crypto.randomUUID()}`;
  const handler = (req: RecordedRequest): Response | Promise<Response> => {
    if (req.path === jwksPath && req.method === "GET") {
      return json({
        keys: [{ kty: "oct", k: base64url.encode(ACCESS_SECRET), alg: "HS512", kid: "access-key" }],
      });
    }
    const body = req.method === "POST" ? JSON.parse(req.body || "{}") : {};
    const token = String(body.token ?? body.refresh_token ?? "");
    const [step, mode] = token.split(":");
    if (req.path === "/validate-token" && req.method === "POST") {
      if (step === "validate" && isFaultMode(mode)) {
        return fault(mode, req, { active: true }, "/validate-token");
      }
      if (step === "validate" && mode === "empty500") return new Response(null, { status: 500 });
      if (step === "validate" && mode === "forbidden") return json({ error: "bad" }, 403);
      if (token === "inactive") return json({ active: false });
      if (token === "active-string") return json({ active: "true" });
      return json({ active: true });
    }
    if (req.path === "/admin/refresh-access-token" && req.method === "POST") {
      if (step === "exchange" && isFaultMode(mode)) {
        return fault(mode, req, { access_token: ACCESS }, "/admin/refresh-access-token");
      }
      if (token === "exchange:client") return new Response(null, { status: 401 });
      if (token === "exchange:refused") return json({ error: "invalid_grant" }, 400);
      if (token === "exchange:no-access-token") return json({ expires_in: 300 });
      if (token === "exchange:foreign") return json({ access_token: FOREIGN_ACCESS });
      if (token === "slow") {
        return new Promise((r) => setTimeout(() => r(json({ access_token: ACCESS })), 300));
      }
      return json({ access_token: ACCESS, expires_in: 300 });
    }
    return new Response(null, { status: 404 });
  };
  return Object.assign(startIdentityUpstream(handler), { jwksPath });
}

function provider(up: Generator): string {
  return `  - type: ecmwf-token-generator
    name: Token Generator
    realm: ecmwf
    cert_uri: ${up.url}${up.jwksPath}
    client_id: polytope
    client_secret: polytope-secret
    token_generator_url: ${up.url}`;
}

const count = (up: Generator, path: string) => up.hits(path).length;

Deno.test("ecmwf-token-generator exchanges a refresh token end to end, JWKS fetched exactly once (spec 12.1)", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up)));
  const result = await authenticateBearer(gw, REFRESH);
  assert.equal(result.status, 200);
  assert.equal(result.claims?.realm, "ecmwf");
  assert.ok((result.claims?.roles as string[]).includes("user"));
  assert.equal(result.claims?.username, "adam");
  assert.deepEqual(result.claims?.scopes, {
    "Token Generator": ["offline_access", "email", "profile"],
  });
  assert.equal((result.claims?.attributes as Record<string, string>).exp, String(EXP));
  const [validate] = up.hits("/validate-token");
  assert.equal(validate.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(validate.body), { token: REFRESH, client_id: "polytope" });
  const [exchange] = up.hits("/admin/refresh-access-token");
  assert.equal(exchange.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(exchange.body), {
    client_id: "polytope",
    client_secret: "polytope-secret",
    refresh_token: REFRESH,
  });
  assert.equal(count(up, up.jwksPath), 1);
  // Validation and exchange are cached (240 s): a second request makes no upstream call.
  assert.equal((await authenticateBearer(gw, REFRESH)).status, 200);
  assert.deepEqual(
    [
      count(up, "/validate-token"),
      count(up, "/admin/refresh-access-token"),
      count(up, up.jwksPath),
    ],
    [1, 1, 1],
  );
});

Deno.test("ecmwf-token-generator always exchanges, even a token that is itself a valid access token", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up)));
  assert.equal((await authenticateBearer(gw, ACCESS)).status, 200);
  assert.equal(count(up, "/validate-token"), 1);
  assert.equal(count(up, "/admin/refresh-access-token"), 1);
});

Deno.test("ecmwf-token-generator rejects inactive tokens without exchanging, and refused exchanges", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up)));
  for (
    const token of [
      "inactive",
      "active-string",
      "validate:forbidden",
      "exchange:refused",
      "exchange:foreign",
    ]
  ) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, token);
    assert.equal(result.retryAfter, null, token);
  }
  const exchanged = up.hits("/admin/refresh-access-token").map((r) =>
    JSON.parse(r.body).refresh_token
  );
  assert.deepEqual(exchanged, ["exchange:refused", "exchange:foreign"]);
  // A refused exchange drops the cached validation, so the next attempt validates again.
  assert.equal((await authenticateBearer(gw, "exchange:refused")).status, 401);
  const validated = up.hits("/validate-token").filter((r) => r.body.includes("exchange:refused"));
  assert.equal(validated.length, 2);
});

Deno.test("ecmwf-token-generator: validate 500 with an empty body is 503 (401 with upstream_failure_status: 401)", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up)));
  await using legacy = await startGateway(
    bearerConfig(provider(up), { upstreamFailureStatus: 401 }),
  );
  const result = await authenticateBearer(gw, "validate:empty500");
  assert.equal(result.status, 503);
  assert.equal(result.retryAfter, "5");
  assert.equal((await authenticateBearer(legacy, "validate:empty500")).status, 401);
  assert.equal(count(up, "/admin/refresh-access-token"), 0);
});

Deno.test("ecmwf-token-generator upstream faults in either step answer 503 and are not cached", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up), { timeoutMs: 1500 }));
  await using legacy = await startGateway(
    bearerConfig(provider(up), { timeoutMs: 1500, upstreamFailureStatus: 401 }),
  );
  const tokens = [
    ...FAULT_MODES.flatMap((mode) => [`validate:${mode}`, `exchange:${mode}`]),
    "exchange:client",
    "exchange:no-access-token",
  ];
  const results = await statusesInTurn([gw, gw, legacy], tokens);
  for (const { token, statuses } of results) assert.deepEqual(statuses, [503, 503, 401], token);
  const step = (path: string, token: string) =>
    up.hits(path).filter((r) =>
      JSON.parse(r.body).token === token || JSON.parse(r.body).refresh_token === token
    ).length;
  for (const mode of FAULT_MODES) {
    assert.equal(step("/validate-token", `validate:${mode}`), 3, `validate:${mode}`);
    assert.equal(step("/admin/refresh-access-token", `validate:${mode}`), 0, `validate:${mode}`);
    assert.equal(step("/admin/refresh-access-token", `exchange:${mode}`), 3, `exchange:${mode}`);
  }
});

Deno.test("ecmwf-token-generator makes one validate, one exchange and one JWKS call for 100 concurrent requests", async () => {
  await using up = startGenerator();
  await using gw = await startGateway(bearerConfig(provider(up)));
  const results = await Promise.all(
    Array.from({ length: 100 }, () => authenticateBearer(gw, "slow")),
  );
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  const calls = [
    count(up, "/validate-token"),
    count(up, "/admin/refresh-access-token"),
    count(up, up.jwksPath),
  ];
  reportMeasurement(
    "ecmwf-token-generator validate calls for 100 concurrent identical tokens",
    calls[0],
  );
  reportMeasurement(
    "ecmwf-token-generator exchange calls for 100 concurrent identical tokens",
    calls[1],
  );
  reportMeasurement(
    "ecmwf-token-generator JWKS fetches for 100 concurrent identical tokens",
    calls[2],
  );
  assert.deepEqual(calls, [1, 1, 1]);
});

Deno.test("ecmwf-token-generator parseOptions names every missing required key", () => {
  const full = {
    cert_uri: "https://x/jwks",
    client_id: "c",
    client_secret: "s",
    token_generator_url: "https://x",
  };
  assertEachKeyRequired(tokenGenerator.parseOptions!, full);
  const parsed = tokenGenerator.parseOptions!({ ...full, validation_cache_ttl_s: 5 });
  assert.equal(parsed.checkCache.ttlMs, 5000);
  assert.equal(parsed.checkCache.negativeTtlMs, 5000);
  assert.equal(parsed.exchangeCache.ttlMs, 240_000);
});
