import assert from "node:assert/strict";
import { exportSPKI, type JWK, SignJWT } from "jose";
import jwt from "../../providers/jwt.ts";
import { OptionsError, type Provider, UpstreamUnavailableError } from "../../lib/plugin.ts";
import { createPluginServices } from "../../packages/plugin/_host/services.ts";
import { captureLogger, pluginContext, verdict } from "../support/plugin_context.ts";
import {
  baseClaims,
  rawToken,
  type SigningKey,
  signingKey,
  signToken,
  startJwksServer,
} from "../support/jwks_server.ts";

const DEFAULT_ALGS = ["RS256", "RS512", "HS512", "ES256", "ES384", "PS256", "EdDSA"];
const KEYS: Record<string, SigningKey> = Object.fromEntries(
  await Promise.all(DEFAULT_ALGS.map(async (alg) => [alg, await signingKey(alg)])),
);
const ALL_JWKS: JWK[] = Object.values(KEYS).map((k) => k.jwk);

const now = () => Math.floor(Date.now() / 1000);

async function provider(options: Record<string, unknown>, name = "TestJWT"): Promise<Provider> {
  const parsed = jwt.parseOptions!({ iam_realm: "unused", ...options });
  return await jwt.create(parsed, pluginContext(name, "ecmwf"));
}

/** The user, or `undefined` for any rejection (its own or not). */
function check(p: Provider, token: string) {
  return verdict(p, token);
}

Deno.test("jwt.parseOptions() requires cert_uri and names bad keys", () => {
  const bad: [Record<string, unknown>, (string | number)[]][] = [
    [{}, ["cert_uri"]],
    [{ cert_uri: "not a url" }, ["cert_uri"]],
    [{ cert_uri: "file:///etc/jwks.json" }, ["cert_uri"]],
    [{ cert_uri: "https://x/", algorithms: ["RS256", "HS256"] }, ["algorithms", 1]],
    [{ cert_uri: "https://x/", algorithms: ["none"] }, ["algorithms", 0]],
    [{ cert_uri: "https://x/", algorithms: [] }, ["algorithms"]],
    [{ cert_uri: "https://x/", issuer: 3 }, ["issuer"]],
    [{ cert_uri: "https://x/", audience: [] }, ["audience"]],
    [{ cert_uri: "https://x/", clock_skew_s: -1 }, ["clock_skew_s"]],
    [{ cert_uri: "https://x/", check_nbf: "yes" }, ["check_nbf"]],
    [{ cert_uri: "https://x/", jwks_cache_ttl_s: 0 }, ["jwks_cache_ttl_s"]],
    [{ cert_uri: "https://x/", jwks_max_stale_s: "1h" }, ["jwks_max_stale_s"]],
    [{ cert_uri: "https://x/", token_cache_max_entries: 0 }, ["token_cache_max_entries"]],
    [{ cert_uri: "https://x/", iam_realm: 5 }, ["iam_realm"]],
  ];
  for (const [options, path] of bad) {
    assert.throws(() => jwt.parseOptions!(options), (error: unknown) => {
      assert.ok(error instanceof OptionsError);
      assert.deepEqual(error.path, path, JSON.stringify(options));
      return true;
    });
  }
  const parsed = jwt.parseOptions!({ cert_uri: "https://idp/certs", iam_realm: "r", issuer: "i" });
  assert.equal(parsed.certUri, "https://idp/certs");
  assert.equal(parsed.issuer, "i");
  assert.equal(parsed.clockSkewS, 60);
  assert.equal(parsed.jwks?.cacheTtlS, 600);
  assert.equal(parsed.jwks?.refetchIntervalS, 30);
  assert.equal(parsed.jwks?.maxStaleS, 3600);
  assert.equal(jwt.scheme, "Bearer");
});

Deno.test("jwt provider accepts every default algorithm with a key of its type", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  for (const alg of DEFAULT_ALGS) {
    const user = await check(p, await signToken(KEYS[alg]));
    assert.equal(user?.username, "alice", alg);
  }
  assert.equal(server.requests, 1);
});

Deno.test("jwt provider rejects every algorithm when its kid names a key of another type", async () => {
  // Under each token's kid the set publishes a key of the wrong type (or curve).
  const wrong: Record<string, string> = {
    RS256: "ES256",
    RS512: "EdDSA",
    PS256: "HS512",
    HS512: "RS256",
    ES256: "ES384",
    ES384: "ES256",
    EdDSA: "ES256",
  };
  const keys = DEFAULT_ALGS.map((alg) => ({ ...KEYS[wrong[alg]].jwk, kid: KEYS[alg].kid }));
  await using server = startJwksServer(keys);
  const p = await provider({ cert_uri: server.uri });
  for (const alg of DEFAULT_ALGS) {
    assert.equal(await check(p, await signToken(KEYS[alg])), undefined, alg);
  }
});

Deno.test("jwt provider rejects HS256, RS384 and ES512 unless listed (spec row 70)", async () => {
  const rs384 = await signingKey("RS384");
  const es512 = await signingKey("ES512");
  await using server = startJwksServer([...ALL_JWKS, rs384.jwk, es512.jwk]);
  const p = await provider({ cert_uri: server.uri });
  const hs256 = await signToken({ ...KEYS.HS512, alg: "HS256" });
  assert.equal(await check(p, hs256), undefined);
  assert.equal(await check(p, await signToken(rs384)), undefined);
  assert.equal(await check(p, await signToken(es512)), undefined);
  const listed = await provider({ cert_uri: server.uri, algorithms: ["RS384", "ES512"] });
  assert.equal((await check(listed, await signToken(rs384)))?.username, "alice");
  assert.equal((await check(listed, await signToken(es512)))?.username, "alice");
  assert.equal(await check(listed, await signToken(KEYS.RS256)), undefined, "not listed");
});

Deno.test("jwt provider rejects alg none in every spelling without fetching the JWKS", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const kid = KEYS.RS256.kid;
  const claims = baseClaims();
  const valid = (await signToken(KEYS.RS256)).split(".")[2];
  for (const alg of ["none", "None", "NONE", "nOnE", "", 256, ["RS256"], null, undefined]) {
    for (const signature of ["", "c2ln", valid]) {
      assert.equal(await check(p, rawToken({ alg, kid }, claims, signature)), undefined);
    }
  }
  assert.equal(server.requests, 0);
});

Deno.test("jwt provider rejects an RSA public key used as an HMAC secret (alg confusion)", async () => {
  const rsa = KEYS.RS256;
  await using server = startJwksServer([rsa.jwk]);
  const p = await provider({ cert_uri: server.uri, algorithms: ["RS256", "HS512"] });
  const pem = await exportSPKI(
    await crypto.subtle.importKey(
      "jwk",
      rsa.jwk as JsonWebKey,
      {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
      },
      true,
      ["verify"],
    ),
  );
  const secrets = [pem, pem.trim(), `${pem}\n`, JSON.stringify(rsa.jwk), rsa.jwk.n!];
  for (const text of secrets) {
    for (const alg of ["HS512", "HS256"]) {
      const forged = await new SignJWT(baseClaims())
        .setProtectedHeader({ alg, kid: rsa.kid })
        .sign(new TextEncoder().encode(text));
      assert.equal(await check(p, forged), undefined, `${alg} with ${text.slice(0, 20)}`);
    }
  }
  assert.equal((await check(p, await signToken(rsa)))?.username, "alice", "the real token passes");
});

Deno.test("jwt provider ignores an embedded jwk header (attacker key)", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const attacker = await signingKey("RS256", KEYS.RS256.kid);
  const forged = await signToken(attacker, baseClaims(), { jwk: attacker.jwk });
  assert.equal(await check(p, forged), undefined);
});

Deno.test("jwt provider requires a kid that is in the set (spec rows 69, 72)", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  assert.equal(
    await check(p, await signToken(KEYS.RS256, baseClaims(), { kid: undefined })),
    undefined,
  );
  assert.equal(await check(p, await signToken(KEYS.RS256, baseClaims(), { kid: 7 })), undefined);
  assert.equal(await check(p, await signToken(KEYS.RS256, baseClaims(), { kid: "" })), undefined);
  assert.equal(
    await check(p, await signToken(KEYS.RS256, baseClaims(), { kid: "nope" })),
    undefined,
  );
  assert.equal(server.requests, 1, "the unknown kid did not refetch within 30 s of the cold fetch");
});

Deno.test("jwt provider requires exp, with a 60 s leeway by default (spec rows 69, 71)", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const key = KEYS.HS512;
  const token = (exp: unknown) => signToken(key, { sub: "alice", scope: "s", exp });
  assert.equal(await check(p, await token(undefined)), undefined, "missing");
  assert.equal(await check(p, await token(String(now() + 100))), undefined, "a string");
  assert.equal(await check(p, await token(null)), undefined, "null");
  assert.equal((await check(p, await token(now() - 30)))?.username, "alice", "within leeway");
  assert.equal(await check(p, await token(now() - 61)), undefined, "beyond leeway");
  const strict = await provider({ cert_uri: server.uri, clock_skew_s: 0 });
  assert.equal(await check(strict, await token(now() - 5)), undefined, "no leeway");
});

Deno.test("jwt provider requires sub and scope strings unless require_scope is false", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const key = KEYS.ES256;
  const exp = now() + 600;
  assert.equal(await check(p, await signToken(key, { scope: "s", exp })), undefined, "no sub");
  assert.equal(await check(p, await signToken(key, { sub: 1, scope: "s", exp })), undefined);
  assert.equal(await check(p, await signToken(key, { sub: "a", exp })), undefined, "no scope");
  assert.equal(await check(p, await signToken(key, { sub: "a", scope: ["s"], exp })), undefined);
  const lax = await provider({ cert_uri: server.uri, require_scope: false });
  const user = await check(lax, await signToken(key, { sub: "a", exp }));
  assert.deepEqual(user?.scopes, {});
  assert.equal(await check(lax, await signToken(key, { sub: "a", scope: 3, exp })), undefined);
});

Deno.test("jwt provider ignores iss, aud and nbf unless configured (spec row 73)", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const key = KEYS.EdDSA;
  const odd = await signToken(key, baseClaims({ iss: "evil", aud: "other", nbf: now() + 3600 }));
  const open = await provider({ cert_uri: server.uri });
  assert.equal((await check(open, odd))?.username, "alice");

  const strict = await provider({
    cert_uri: server.uri,
    issuer: "https://idp.example/realms/r",
    audience: ["api", "other-api"],
    check_nbf: true,
  });
  const good = { iss: "https://idp.example/realms/r", aud: ["x", "api"] };
  assert.equal((await check(strict, await signToken(key, baseClaims(good))))?.username, "alice");
  const cases: Record<string, unknown>[] = [
    { ...good, iss: "https://idp.example/realms/r/" },
    { ...good, iss: undefined },
    { ...good, aud: "x" },
    { ...good, aud: undefined },
    { ...good, aud: [] },
    { ...good, aud: { api: true } },
    { ...good, nbf: now() + 120 },
    { ...good, nbf: "0" },
  ];
  for (const claims of cases) {
    assert.equal(await check(strict, await signToken(key, baseClaims(claims))), undefined);
  }
  const early = await signToken(key, baseClaims({ ...good, nbf: now() + 30 }));
  assert.equal((await check(strict, early))?.username, "alice", "nbf within the skew");
});

Deno.test("jwt provider maps claims to the user exactly as spec 5.2 step 8", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri }, "TestJWT");
  const exp = now() + 600;
  const claims = {
    sub: "user-123",
    scope: " read  write\tadmin ",
    exp,
    preferred_username: "alice",
    realm_access: { roles: ["r1", "r2"] },
    entitlements: ["e1"],
    resource_access: { zeta: { roles: ["z1"] }, alpha: { roles: ["a1", "a2"] } },
    nested: { flag: true },
    number: 4102444800,
    float: 1.5,
    yes: true,
    nothing: null,
    list: [1, "two"],
    ctrl: "a\u0000b\u001fc\u007fd\u0085e\u200bf",
    email: "alice@example.org",
  };
  const user = await check(p, await signToken(KEYS.PS256, claims));
  assert.deepEqual(user, {
    username: "alice",
    roles: ["r1", "r2", "e1", "a1", "a2", "z1"],
    attributes: {
      exp: String(exp),
      preferred_username: "alice",
      nested: '{"flag":true}',
      number: "4102444800",
      float: "1.5",
      yes: "true",
      nothing: "null",
      list: '[1,"two"]',
      ctrl: "abcde\u200bf",
      email: "alice@example.org",
    },
    scopes: { TestJWT: ["read", "write", "admin"] },
  });
  const plain = await check(p, await signToken(KEYS.PS256, baseClaims({ preferred_username: 5 })));
  assert.deepEqual(plain, {
    username: "alice",
    roles: [],
    attributes: { exp: plain!.attributes!.exp, preferred_username: "5" },
    scopes: { TestJWT: ["read", "write"] },
  });
});

Deno.test("jwt provider rejects malformed role claims and tolerates null ones", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  for (
    const bad of [
      { realm_access: {} },
      { realm_access: { roles: "admin" } },
      { resource_access: { app: {} } },
      { resource_access: { app: null } },
      { resource_access: [] },
      { entitlements: "e" },
      { entitlements: [1] },
    ]
  ) {
    assert.equal(await check(p, await signToken(KEYS.RS512, baseClaims(bad))), undefined);
  }
  const nulls = baseClaims({ realm_access: null, entitlements: null, resource_access: null });
  assert.deepEqual((await check(p, await signToken(KEYS.RS512, nulls)))?.roles, []);
});

Deno.test("jwt provider keeps __proto__ and constructor claims as plain attributes", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const hostile = JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}');
  const user = await check(p, await signToken(KEYS.HS512, { ...baseClaims(), ...hostile }));
  assert.equal(Object.getPrototypeOf(user!.attributes), Object.prototype);
  assert.equal(
    Object.getOwnPropertyDescriptor(user!.attributes, "__proto__")?.value,
    '{"admin":true}',
  );
  assert.equal(user!.attributes!.constructor as unknown, '{"prototype":{"x":1}}');
  assert.equal(({} as Record<string, unknown>).admin, undefined);
});

Deno.test("jwt provider rejects non-canonical, oversized and crit tokens", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: server.uri });
  const token = await signToken(KEYS.HS512);
  assert.equal((await check(p, token))?.username, "alice");
  const [h, c, s] = token.split(".");
  // HS512 signatures are 64 bytes: 86 characters with 2 unused trailing bits.
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const lastBits = B64[B64.indexOf(s.at(-1)!) | 1];
  const variants = [
    `${token}=`,
    `${h}.${c}.${s.slice(0, -1)}${lastBits}`,
    `${h}.${c} .${s}`,
    `${h}.${c}.${s.replaceAll("-", "+").replaceAll("_", "/")}x+`,
    `${h}.${c}.${s}.extra`,
    ` ${token}`,
  ];
  for (const variant of variants) {
    if (variant !== token) assert.equal(await check(p, variant), undefined, variant);
  }
  const big = await signToken(KEYS.HS512, baseClaims({ pad: "x".repeat(17_000) }));
  assert.equal(await check(p, big), undefined, "longer than 16 KiB");
  const crit = await signToken(KEYS.HS512, baseClaims(), { crit: ["b64"], b64: true });
  assert.equal(await check(p, crit), undefined);
});

Deno.test("jwt provider serves verified tokens from its cache, never past exp", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({
    cert_uri: server.uri,
    clock_skew_s: 0,
    jwks_cache_ttl_s: 0.05,
    jwks_max_stale_s: 0,
  });
  const longLived = await signToken(KEYS.RS256);
  const shortLived = await signToken(KEYS.RS256, baseClaims({ exp: now() + 2 }));
  assert.equal((await check(p, longLived))?.username, "alice");
  assert.equal((await check(p, shortLived))?.username, "alice");
  server.mode = "500";
  await new Promise((r) => setTimeout(r, 3100));
  // The keys are now unusable (TTL 50 ms, no max-stale) and the endpoint fails...
  await assert.rejects(
    check(p, await signToken(KEYS.RS256, baseClaims({ sub: "bob" }))),
    UpstreamUnavailableError,
  );
  // ...but the verified token is still answered from the cache,
  assert.equal((await check(p, longLived))?.username, "alice");
  // while the expired one is not: its entry ended at its exp, and an expired
  // token is a definitive "no" even without keys (not an outage: issue 17).
  assert.equal(await check(p, shortLived), undefined);
  await (p[Symbol.asyncDispose]!)();
});

Deno.test("jwt provider: a cold cache with a failing JWKS is 'unavailable', garbage stays invalid", async () => {
  await using server = startJwksServer(ALL_JWKS);
  server.mode = "500";
  const p = await provider({ cert_uri: server.uri });
  await assert.rejects(check(p, await signToken(KEYS.ES384)), (error: unknown) => {
    assert.ok(error instanceof UpstreamUnavailableError);
    assert.equal(error.kind, "5xx");
    assert.doesNotMatch(error.message, /eyJ/, "no token in the message");
    return true;
  });
  assert.equal(await check(p, "not-a-jwt"), undefined);
  assert.equal(server.requests, 1);
});

Deno.test("jwt provider status() reports the JWKS without secrets", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const p = await provider({ cert_uri: `${server.uri}?token=secret` });
  await check(p, await signToken(KEYS.RS256));
  const { jwks } = p.status!() as { jwks: Record<string, unknown> };
  assert.equal(jwks.uri, server.uri);
  assert.equal(jwks.keys, DEFAULT_ALGS.length);
  assert.equal(jwks.age_seconds, 0);
  assert.equal(jwks.last_error, null);
  assert.equal(jwks.fetches, 1);
});

Deno.test("jwt provider checks 100 concurrent identical tokens once (single-flight)", async () => {
  await using server = startJwksServer(ALL_JWKS);
  const services = createPluginServices();
  const p = await jwt.create(jwt.parseOptions!({ cert_uri: server.uri }), {
    ...pluginContext("TestJWT", "ecmwf"),
    ...services,
    log: captureLogger(),
  });
  const token = await signToken(KEYS.RS256);
  const users = await Promise.all(Array.from({ length: 100 }, () => check(p, token)));
  assert.ok(users.every((u) => u?.username === "alice"));
  const cache = services.caches.get("access_tokens")!;
  assert.equal(server.requests, 1, "one JWKS fetch");
  assert.equal(cache.stats.misses, 1, "one signature check; 99 joined it");
  assert.equal(cache.stats.hits, 99);
  assert.equal((await check(p, token))?.username, "alice");
  assert.equal(cache.stats.misses, 1, "later calls come from the cache");
});
