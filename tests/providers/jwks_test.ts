import assert from "node:assert/strict";
import { base64url, exportJWK, type JWK } from "jose";
import {
  BACKOFF_MAX_MS,
  DEFAULT_JWKS_SETTINGS,
  JwksKeySet,
  type JwksSettings,
  sharedJwksKeySet,
} from "../../providers/_shared/jwks.ts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { createUpstreamHttp } from "../../packages/plugin/_host/upstream.ts";
import { captureLogger } from "../support/plugin_context.ts";
import {
  type JwksMode,
  type SigningKey,
  signingKey,
  startJwksServer,
} from "../support/jwks_server.ts";

const rsa: SigningKey = await signingKey("RS256", "rsa-1");
const ec: SigningKey = await signingKey("ES256", "ec-1");
const hmac: SigningKey = await signingKey("HS512", "oct-1");

/** A key set on a fake monotonic clock (real HTTP, real server). */
function keySet(uri: string, settings: Partial<JwksSettings> = {}) {
  const clock = { now: 1_000_000 };
  const log = captureLogger();
  const set = new JwksKeySet(uri, { ...DEFAULT_JWKS_SETTINGS, ...settings }, {
    http: createUpstreamHttp(),
    log,
    now: () => clock.now,
  });
  return { set, clock, log };
}

const live = () => new AbortController().signal;

async function rejectsUnavailable(promise: Promise<unknown>, kind?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UpstreamUnavailableError, String(error));
    if (kind !== undefined) assert.equal(error.kind, kind);
    return true;
  });
}

Deno.test("JwksKeySet.keysFor() fetches once on a cold cache and serves every key type", async () => {
  await using server = startJwksServer([rsa.jwk, ec.jwk, hmac.jwk]);
  const { set } = keySet(server.uri);
  const snapshot = await set.keysFor("rsa-1", live());
  assert.deepEqual([...snapshot.kids].sort(), ["ec-1", "oct-1", "rsa-1"]);
  assert.equal(snapshot.size, 3);
  await set.keysFor("ec-1", live());
  await set.keysFor("oct-1", live());
  assert.equal(server.requests, 1);
  assert.equal(set.status().keys, 3);
  assert.equal(set.status().last_error, null);
});

Deno.test("JwksKeySet.keysFor() refetches for an unknown kid at most once per interval", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock } = keySet(server.uri);
  await set.keysFor("rsa-1", live());
  for (let i = 0; i < 200; i++) {
    const snapshot = await set.keysFor(`random-${i}`, live());
    assert.equal(snapshot.kids.has(`random-${i}`), false);
  }
  assert.equal(server.requests, 1, "no refetch within 30 s of the cold fetch");
  clock.now += 30_000;
  for (let i = 0; i < 200; i++) await set.keysFor(`again-${i}`, live());
  assert.equal(server.requests, 2, "one refetch once the interval has passed");
});

Deno.test("JwksKeySet.keysFor() picks up a rotated key through the bounded refetch", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock } = keySet(server.uri);
  await set.keysFor("rsa-1", live());
  server.keys = [ec.jwk];
  assert.equal((await set.keysFor("ec-1", live())).kids.has("ec-1"), false, "within cooldown");
  clock.now += 30_001;
  const rotated = await set.keysFor("ec-1", live());
  assert.equal(rotated.kids.has("ec-1"), true);
  assert.equal(rotated.kids.has("rsa-1"), false, "the removed key is gone after the refetch");
  assert.equal(server.requests, 2);
});

Deno.test("JwksKeySet.keysFor() single-flights concurrent cold fetches", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set } = keySet(server.uri);
  const results = await Promise.all(
    Array.from({ length: 100 }, () => set.keysFor("rsa-1", live())),
  );
  assert.equal(new Set(results).size, 1);
  assert.equal(server.requests, 1);
});

Deno.test("JwksKeySet.keysFor() serves stale keys while refreshing after the TTL", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock } = keySet(server.uri);
  const first = await set.keysFor("rsa-1", live());
  clock.now += 600_000;
  server.keys = [rsa.jwk, ec.jwk];
  const stale = await set.keysFor("rsa-1", live());
  assert.equal(stale, first, "answered from the stale set without waiting");
  await set.settled();
  assert.equal(server.requests, 2, "one background refresh");
  assert.equal((await set.keysFor("ec-1", live())).kids.has("ec-1"), true);
  assert.equal(server.requests, 2);
});

Deno.test("JwksKeySet.keysFor() keeps last-good keys up to max-stale when the endpoint fails", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock, log } = keySet(server.uri);
  await set.keysFor("rsa-1", live());
  server.mode = "500";
  clock.now += 600_000;
  let fetchesBefore = server.requests;
  for (let minute = 0; minute < 59; minute++) {
    const snapshot = await set.keysFor("rsa-1", live());
    assert.equal(snapshot.kids.has("rsa-1"), true, `minute ${minute}`);
    await set.settled();
    clock.now += 60_000;
  }
  assert.ok(server.requests - fetchesBefore <= 59, "at most one refresh per back-off step");
  const status = set.status();
  assert.equal(status.stale, true);
  assert.match(String(status.last_error), /500/);
  assert.ok(Number(status.consecutive_failures) >= 1);
  assert.ok(log.lines.some((l) => l.event === "providers.jwks.fetch_failed" && l.level === "warn"));
  clock.now += 61_000; // now past TTL + max-stale
  fetchesBefore = server.requests;
  await rejectsUnavailable(set.keysFor("rsa-1", live()), "5xx");
  server.mode = "ok";
  clock.now += BACKOFF_MAX_MS;
  assert.equal((await set.keysFor("rsa-1", live())).kids.has("rsa-1"), true, "recovers");
  assert.equal(set.status().consecutive_failures, 0);
});

Deno.test("JwksKeySet.keysFor() retries a failing cold fetch every 1–2 s while requests wait", async () => {
  await using server = startJwksServer([rsa.jwk]);
  server.mode = "500";
  const { set, clock } = keySet(server.uri);
  const attempts: number[] = [];
  // Simulate 200 s of requests, one every 100 ms.
  for (let tick = 0; tick < 2000; tick++) {
    const before = server.requests;
    await rejectsUnavailable(set.keysFor("rsa-1", live()));
    if (server.requests > before) attempts.push(tick);
    clock.now += 100;
  }
  // No usable keys and requests waiting: the back-off is capped at 1 s + up to 1 s of jitter
  // (the first steps of the doubling, 1 s and 2 s, are not longer than that cap anyway).
  assert.equal(attempts[0], 0);
  const gaps = attempts.slice(1).map((tick, i) => (tick - attempts[i]!) / 10);
  assert.ok(gaps.every((gap) => gap >= 1 && gap <= 2.1), JSON.stringify(gaps));
  assert.ok(new Set(gaps).size > 3, "jittered, not in lockstep with other replicas");
});

Deno.test("JwksKeySet.keysFor() answers an unknown kid with 'unavailable' while the endpoint fails", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock } = keySet(server.uri);
  await set.keysFor("rsa-1", live());
  server.mode = "500";
  clock.now += 30_000;
  await rejectsUnavailable(set.keysFor("new-kid", live()));
  assert.equal(server.requests, 2);
  await rejectsUnavailable(set.keysFor("new-kid", live()));
  assert.equal(server.requests, 2, "backing off: no new fetch");
  assert.equal((await set.keysFor("rsa-1", live())).kids.has("rsa-1"), true, "known kid still ok");
});

const BAD_MODES: JwksMode[] = [
  "404",
  "429",
  "html",
  "empty",
  "no_keys_member",
  "unusable",
  "too_many",
  "huge",
  "redirect",
];

for (const mode of BAD_MODES) {
  Deno.test(`JwksKeySet.keysFor() never replaces good keys with a '${mode}' answer`, async () => {
    await using server = startJwksServer([rsa.jwk]);
    const { set, clock } = keySet(server.uri);
    const good = await set.keysFor("rsa-1", live());
    server.mode = mode;
    clock.now += 600_000;
    await set.keysFor("rsa-1", live());
    await set.settled();
    assert.equal(server.requests, 2);
    assert.equal(await set.keysFor("rsa-1", live()), good, "still the good snapshot");
    assert.notEqual(set.status().last_error, null);

    const cold = keySet(server.uri).set;
    await rejectsUnavailable(cold.keysFor("rsa-1", live()));
  });
}

Deno.test("JwksKeySet.keysFor() gives up on a hanging endpoint at its own timeout", async () => {
  await using server = startJwksServer([rsa.jwk]);
  server.mode = "hang";
  const { set } = keySet(server.uri, { timeoutS: 0.2 });
  await rejectsUnavailable(set.keysFor("rsa-1", live()), "timeout");
  assert.match(String(set.status().last_error), /in time/);
});

Deno.test("JwksKeySet.keysFor() stops waiting when the caller's signal aborts, the fetch goes on", async () => {
  await using server = startJwksServer([rsa.jwk]);
  server.mode = "hang";
  const { set } = keySet(server.uri, { timeoutS: 1 });
  await rejectsUnavailable(set.keysFor("rsa-1", AbortSignal.abort()), "timeout");
  assert.equal(server.requests, 0, "an already aborted caller starts nothing");
  const waiting = new AbortController();
  const pending = set.keysFor("rsa-1", waiting.signal);
  while (server.requests === 0) await new Promise((r) => setTimeout(r, 10));
  waiting.abort();
  await rejectsUnavailable(pending, "timeout");
  assert.equal(set.status().consecutive_failures, 0, "the fetch is still running");
  await set.settled(); // the hanging fetch ends at its own 1 s timeout
  assert.equal(set.status().consecutive_failures, 1);
});

Deno.test("sharedJwksKeySet() shares one set per URI and settings", () => {
  const deps = { http: createUpstreamHttp(), log: captureLogger() };
  const uri = `http://127.0.0.1:9/${crypto.randomUUID()}`;
  const a = sharedJwksKeySet(uri, DEFAULT_JWKS_SETTINGS, deps);
  assert.equal(sharedJwksKeySet(uri, { ...DEFAULT_JWKS_SETTINGS }, deps), a);
  assert.notEqual(sharedJwksKeySet(uri, { ...DEFAULT_JWKS_SETTINGS, cacheTtlS: 1 }, deps), a);
  assert.notEqual(sharedJwksKeySet(uri + "x", DEFAULT_JWKS_SETTINGS, deps), a);
});

/** An RSA public JWK whose modulus has exactly `bits` bits (random, never usable to verify). */
function rsaJwkOfSize(bits: number, kid: string): JWK {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(bits / 8)));
  bytes[0] = (bytes[0] | 0x80) >> ((8 - (bits % 8)) % 8);
  return { kty: "RSA", e: "AQAB", n: base64url.encode(bytes), kid };
}

/** A real RSA key pair of `bits` bits (WebCrypto: jose refuses to make small ones), as a public JWK. */
async function realRsaJwk(bits: number, kid: string): Promise<JWK> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  return { ...(await exportJWK(pair.publicKey)), kid };
}

Deno.test("JwksKeySet.keysFor() drops RSA keys over 8192 or under 2048 bits, logged, keeping the rest", async () => {
  const small = await realRsaJwk(1024, "rsa-1024");
  await using server = startJwksServer([
    rsa.jwk,
    rsaJwkOfSize(16_384, "rsa-16384"),
    rsaJwkOfSize(8193, "rsa-8193"),
    rsaJwkOfSize(8192, "rsa-8192"),
    small,
    { kty: "RSA", e: "AQAB", n: "", kid: "rsa-empty" },
    ec.jwk,
  ]);
  const { set, log } = keySet(server.uri);
  const snapshot = await set.keysFor("rsa-1", live());
  assert.deepEqual([...snapshot.kids].sort(), ["ec-1", "rsa-1", "rsa-8192"]);
  assert.equal(snapshot.size, 3);
  const dropped = log.lines.filter((line) => line.event === "providers.jwks.key_dropped");
  assert.deepEqual(dropped.map((line) => [line.attributes?.kid, line.attributes?.reason]), [
    ["rsa-16384", "RSA modulus of 16384 bits (at most 8192)"],
    ["rsa-8193", "RSA modulus of 8193 bits (at most 8192)"],
    ["rsa-1024", "RSA modulus of 1024 bits (at least 2048)"],
    ["rsa-empty", "RSA key without a valid modulus"],
  ]);
  assert.ok(dropped.every((line) => line.level === "warn"));
  assert.equal(set.status().last_error, null);
});

Deno.test("JwksKeySet.keysFor() treats a set of only oversized RSA keys as invalid, keeping the good one", async () => {
  await using server = startJwksServer([rsa.jwk]);
  const { set, clock } = keySet(server.uri);
  const good = await set.keysFor("rsa-1", live());
  server.keys = [rsaJwkOfSize(16_384, "rsa-1")];
  clock.now += 600_000;
  await set.keysFor("rsa-1", live());
  await set.settled();
  assert.equal(await set.keysFor("rsa-1", live()), good);
  assert.match(String(set.status().last_error), /no usable keys/);
  await rejectsUnavailable(keySet(server.uri).set.keysFor("rsa-1", live()), "invalid_jwks");
});
