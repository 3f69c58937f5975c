import assert from "node:assert/strict";
import { base64url, type JWK } from "jose";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig, reportMeasurement } from "../support/bearer.ts";
import {
  baseClaims,
  rawToken,
  type SigningKey,
  signingKey,
  signToken,
  startJwksServer,
} from "../support/jwks_server.ts";

const HS512: SigningKey = await signingKey("HS512");
const RS256: SigningKey = await signingKey("RS256");
const ES256: SigningKey = await signingKey("ES256");
const JWKS: JWK[] = [HS512.jwk, RS256.jwk, ES256.jwk];

const now = () => Math.floor(Date.now() / 1000);

/** A gateway with one `jwt` provider named TestJWT in realm ecmwf. */
function jwtGateway(
  certUri: string,
  extra = "",
  auth: { upstreamFailureStatus?: 401 | 503; timeoutMs?: number } = {},
): Promise<TestGateway> {
  return startGateway(bearerConfig(
    `  - type: jwt
    name: TestJWT
    realm: ecmwf
    cert_uri: ${certUri}
    iam_realm: ecmwf
${extra}`,
    auth,
  ));
}

Deno.test("/authenticate accepts a valid HS512 token: username = sub, provider realm (row 64)", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  const result = await authenticateBearer(gw, await signToken(HS512));
  assert.equal(result.status, 200);
  assert.equal(result.claims?.username, "alice");
  assert.equal(result.claims?.realm, "ecmwf");
  assert.equal(result.claims?.sub, "ecmwf-alice");
  assert.equal((await authenticateBearer(gw, await signToken(HS512), "ecmwf")).status, 200);
  assert.equal((await authenticateBearer(gw, await signToken(HS512), "other")).status, 401);
});

Deno.test("/authenticate maps a jwt user into the issued JWT (rows 65-68, 76)", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  const exp = now() + 120;
  const token = await signToken(RS256, {
    sub: "u-1",
    scope: "read write",
    exp,
    preferred_username: "alice",
    realm_access: { roles: ["realm-role"] },
    entitlements: ["ent"],
    resource_access: { b: { roles: ["b1"] }, a: { roles: ["a1"] } },
    nested: { flag: true },
    number: 4102444800,
    ctrl: "x\u0007y",
  });
  const { status, claims } = await authenticateBearer(gw, token);
  assert.equal(status, 200);
  assert.equal(claims?.username, "alice");
  assert.deepEqual(
    new Set(claims?.roles as string[]),
    new Set(["realm-role", "ent", "a1", "b1"]),
  );
  assert.deepEqual(claims?.scopes, { TestJWT: ["read", "write"] });
  const attributes = claims?.attributes as Record<string, string>;
  assert.equal(attributes.nested, '{"flag":true}');
  assert.equal(attributes.number, "4102444800");
  assert.equal(attributes.ctrl, "xy");
  assert.equal(attributes.exp, String(exp));
  assert.ok(claims!.exp! <= exp, "the issued JWT never outlives the upstream token (row 76)");
});

Deno.test("/authenticate answers 401 for invalid jwt tokens (rows 69-72)", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  const rs384 = await signingKey("RS384");
  server.keys = [...JWKS, rs384.jwk];
  const invalid = {
    "no scope": await signToken(HS512, { sub: "a", exp: now() + 60 }),
    "no sub": await signToken(HS512, { scope: "s", exp: now() + 60 }),
    "no exp": await signToken(HS512, { sub: "a", scope: "s" }),
    "no kid": await signToken(HS512, baseClaims(), { kid: undefined }),
    "HS256": await signToken({ ...HS512, alg: "HS256" }),
    "RS384": await signToken(rs384),
    "alg none": rawToken({ alg: "none", kid: HS512.kid }, baseClaims(), "x"),
    "expired 61 s": await signToken(HS512, baseClaims({ exp: now() - 61 })),
    "unknown kid": await signToken(HS512, baseClaims(), { kid: "unknown" }),
    "garbage": "not.a.jwt",
  };
  for (const [label, token] of Object.entries(invalid)) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, label);
    assert.equal(result.challenge, 'Bearer realm="ecmwf"', label);
  }
  const leeway = await signToken(ES256, baseClaims({ exp: now() - 30 }));
  assert.equal((await authenticateBearer(gw, leeway)).status, 200, "expired 30 s: within leeway");
});

Deno.test("/authenticate ignores iss/aud/nbf by default and enforces them when configured (row 73)", async () => {
  await using server = startJwksServer(JWKS);
  const odd = await signToken(HS512, baseClaims({ iss: "x", aud: "y", nbf: now() + 600 }));
  {
    await using gw = await jwtGateway(server.uri);
    assert.equal((await authenticateBearer(gw, odd)).status, 200);
  }
  await using strict = await jwtGateway(
    server.uri,
    "    issuer: https://idp\n    audience: [api]\n    check_nbf: true\n",
  );
  assert.equal((await authenticateBearer(strict, odd)).status, 401);
  const good = await signToken(HS512, baseClaims({ iss: "https://idp", aud: "api" }));
  assert.equal((await authenticateBearer(strict, good)).status, 200);
});

Deno.test("/authenticate: a failing JWKS on a cold cache is 503 with Retry-After, or 401 as configured (row 74, adapted)", async () => {
  await using server = startJwksServer(JWKS);
  for (const mode of ["500", "404", "html", "empty", "hang"] as const) {
    server.mode = mode;
    const uri = `${server.uri}?case=${mode}`;
    await using gw = await jwtGateway(uri, "    jwks_timeout_s: 0.3\n");
    const result = await authenticateBearer(gw, await signToken(HS512));
    assert.equal(result.status, 503, mode);
    assert.ok(Number(result.retryAfter) > 0, mode);
    assert.ok(
      gw.logs.some((l) => l.includes("providers.jwks.fetch_failed")),
      `${mode}: the failure is logged`,
    );
    assert.ok(!gw.logs.some((l) => l.includes(HS512.kid + ".")), "no token in the logs");
  }
  server.mode = "500";
  await using original = await jwtGateway(`${server.uri}?case=401`, "", {
    upstreamFailureStatus: 401,
  });
  assert.equal((await authenticateBearer(original, await signToken(HS512))).status, 401);
});

Deno.test("/authenticate fetches the JWKS once per URI, also for invalid tokens (row 75)", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  assert.equal((await authenticateBearer(gw, await signToken(HS512))).status, 200);
  assert.equal((await authenticateBearer(gw, await signToken(RS256))).status, 200);
  const bad = await signToken(HS512, baseClaims({ exp: now() - 3600 }));
  assert.equal((await authenticateBearer(gw, bad)).status, 401);
  const wrongKid = await signToken(HS512, baseClaims(), { kid: "other" });
  assert.equal((await authenticateBearer(gw, wrongKid)).status, 401);
  assert.equal((await authenticateBearer(gw, "garbage")).status, 401);
  assert.equal(server.requests, 1);
  // Two providers with the same cert_uri share one set.
  await using twin = await jwtGateway(server.uri);
  assert.equal((await authenticateBearer(twin, await signToken(ES256))).status, 200);
  assert.equal(server.requests, 1);
});

Deno.test("/authenticate: an unknown-kid storm makes at most one extra JWKS fetch", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  assert.equal((await authenticateBearer(gw, await signToken(HS512))).status, 200);
  const tokens = await Promise.all(
    Array.from(
      { length: 1000 },
      () => signToken(HS512, baseClaims(), { kid: crypto.randomUUID() }),
    ),
  );
  const statuses: number[] = [];
  for (let i = 0; i < tokens.length; i += 50) {
    const batch = tokens.slice(i, i + 50).map((t) => authenticateBearer(gw, t));
    statuses.push(...(await Promise.all(batch)).map((r) => r.status));
  }
  assert.ok(statuses.every((s) => s === 401));
  reportMeasurement(
    "jwt unknown-kid storm: JWKS fetches for 1 warm-up + 1000 random kids",
    server.requests,
  );
  assert.ok(server.requests <= 2, `${server.requests} fetches`);
});

Deno.test("/authenticate: 100 concurrent requests with the same new token make one JWKS fetch", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(server.uri);
  const token = await signToken(RS256);
  const results = await Promise.all(
    Array.from({ length: 100 }, () => authenticateBearer(gw, token)),
  );
  assert.ok(results.every((r) => r.status === 200));
  reportMeasurement(
    "jwt single-flight: JWKS fetches for 100 concurrent identical tokens",
    server.requests,
  );
  assert.equal(server.requests, 1);
});

Deno.test("/authenticate: JWKS rotation picks up a new kid after the refetch interval", async () => {
  await using server = startJwksServer([RS256.jwk]);
  await using gw = await jwtGateway(server.uri, "    jwks_refetch_interval_s: 0.2\n");
  assert.equal((await authenticateBearer(gw, await signToken(RS256))).status, 200);
  const next = await signingKey("ES256");
  server.keys = [next.jwk];
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await authenticateBearer(gw, await signToken(next))).status, 200);
  assert.equal(server.requests, 2);
});

Deno.test("/authenticate: stale-while-revalidate keeps serving while the JWKS is down, up to max-stale", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(
    server.uri,
    "    jwks_cache_ttl_s: 0.1\n    jwks_max_stale_s: 1.5\n    token_cache_ttl_s: 0\n",
  );
  assert.equal((await authenticateBearer(gw, await signToken(HS512))).status, 200);
  server.mode = "500";
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 20; i++) {
    const token = await signToken(HS512, baseClaims({ sub: `u${i}` }));
    assert.equal((await authenticateBearer(gw, token)).status, 200, `stale keys, request ${i}`);
  }
  // One background refresh, then back-off (1 s) bounds the retries.
  assert.ok(server.requests <= 3, `${server.requests} fetches`);
  await new Promise((r) => setTimeout(r, 1600));
  const late = await authenticateBearer(gw, await signToken(HS512, baseClaims({ sub: "late" })));
  assert.equal(late.status, 503, "past max-stale");
  server.mode = "ok";
  // Recovery comes at the next back-off step (at most 60 s; a few seconds here).
  let status = 0;
  for (let i = 0; i < 40 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250));
    status = (await authenticateBearer(gw, await signToken(HS512, baseClaims({ sub: `b${i}` }))))
      .status;
  }
  assert.equal(status, 200, "recovers once the JWKS answers again");
});

Deno.test("/authenticate: a storm against a failing JWKS is bounded by the back-off", async () => {
  await using server = startJwksServer(JWKS);
  server.mode = "500";
  await using gw = await jwtGateway(server.uri);
  const started = performance.now();
  for (let i = 0; i < 300; i += 50) {
    const batch = Array.from(
      { length: 50 },
      async () =>
        (await authenticateBearer(
          gw,
          await signToken(HS512, baseClaims(), {
            kid: crypto.randomUUID(),
          }),
        )).status,
    );
    assert.ok((await Promise.all(batch)).every((s) => s === 503));
  }
  const elapsed = (performance.now() - started) / 1000;
  // With no usable keys, attempts are at least 1 s apart: at most 1 + elapsed of them.
  const bound = 1 + elapsed;
  reportMeasurement(
    `jwt storm on a failing JWKS: fetches in ${elapsed.toFixed(1)} s`,
    server.requests,
  );
  assert.ok(server.requests <= bound, `${server.requests} fetches in ${elapsed} s`);
});

Deno.test("/authenticate: an empty or oversized JWKS never replaces good keys", async () => {
  await using server = startJwksServer(JWKS);
  await using gw = await jwtGateway(
    server.uri,
    "    jwks_cache_ttl_s: 0.1\n    token_cache_ttl_s: 0\n",
  );
  assert.equal((await authenticateBearer(gw, await signToken(ES256))).status, 200);
  for (const mode of ["empty", "huge", "too_many"] as const) {
    server.mode = mode;
    await new Promise((r) => setTimeout(r, 150));
    const token = await signToken(ES256, baseClaims({ sub: mode }));
    assert.equal((await authenticateBearer(gw, token)).status, 200, mode);
  }
});

Deno.test("/authenticate: an RSA key over 8192 bits in the JWKS is dropped at ingest (logged); its kid gets 401", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(2048));
  bytes[0] |= 0x80;
  const huge: JWK = { kty: "RSA", e: "AQAB", n: base64url.encode(bytes), kid: "huge" };
  await using server = startJwksServer([huge, RS256.jwk]);
  await using gw = await jwtGateway(server.uri);
  const forged = rawToken({ alg: "RS256", kid: "huge" }, baseClaims(), "c2ln");
  assert.equal((await authenticateBearer(gw, forged)).status, 401);
  assert.equal((await authenticateBearer(gw, await signToken(RS256))).status, 200);
  const dropped = gw.logs.filter((line) => line.includes("providers.jwks.key_dropped"));
  assert.equal(dropped.length, 1, gw.logs.join("\n"));
  assert.match(dropped[0], /16384 bits/);
});
