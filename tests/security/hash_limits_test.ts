/**
 * Expensive password hashes stay bounded (D03, T07, RL14): a ceiling on
 * PBKDF2 iterations at startup, a process-wide concurrency limit with a
 * bounded queue (overflow fails fast as 503, never 500, never an unbounded
 * backlog), and a cache of verified credentials held only as HMACs.
 */
import assert from "node:assert/strict";
import {
  HASH_CONCURRENCY,
  HASH_QUEUE,
  HashLimiter,
  verifiedCredentials,
} from "../../providers/_shared/hash_guard.ts";
import {
  hashMatches,
  hashPassword,
  MAX_ITERATIONS,
  parsePasswordHash,
} from "../../providers/_shared/password_hash.ts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { ConfigError } from "../../lib/util/errors.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

Deno.test("HashLimiter.run() never exceeds its limit and fails fast once the queue is full", async () => {
  const limiter = new HashLimiter(2, 3);
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const task = () =>
    limiter.run(async () => {
      peak = Math.max(peak, ++running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return "done";
    });
  const accepted = Array.from({ length: 5 }, task);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(limiter.load, [2, 3]);
  const started = performance.now();
  await assert.rejects(
    task(),
    (e: unknown) => e instanceof UpstreamUnavailableError && e.kind === "overloaded",
  );
  assert.ok(performance.now() - started < 100, "overflow is refused at once");
  while (gates.length > 0 || limiter.load[0] > 0) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual(await Promise.all(accepted), ["done", "done", "done", "done", "done"]);
  assert.equal(peak, 2);
  assert.deepEqual(limiter.load, [0, 0]);
});

Deno.test("HashLimiter.run() drops a waiter whose signal aborts", async () => {
  const limiter = new HashLimiter(1, 4);
  let release!: () => void;
  const first = limiter.run(() => new Promise<void>((r) => release = r));
  const controller = new AbortController();
  const waiting = limiter.run(() => Promise.resolve("never"), controller.signal);
  controller.abort(new Error("timed out"));
  await assert.rejects(waiting, /timed out/);
  assert.deepEqual(limiter.load, [1, 0]);
  release();
  await first;
  assert.deepEqual(limiter.load, [0, 0]);
});

Deno.test("parsePasswordHash() refuses an absurd iteration count (D03)", async () => {
  const ok = await hashPassword("pw", 1000);
  assert.ok(parsePasswordHash(ok));
  const salt = ok.split("$")[3];
  const hash = ok.split("$")[4];
  assert.ok(parsePasswordHash(`$pbkdf2-sha256$i=${MAX_ITERATIONS}$${salt}$${hash}`));
  assert.equal(
    parsePasswordHash(`$pbkdf2-sha256$i=${MAX_ITERATIONS + 1}$${salt}$${hash}`),
    undefined,
  );
  assert.equal(parsePasswordHash(`$pbkdf2-sha256$i=99999999$${salt}$${hash}`), undefined);
  const yaml = testConfig(`
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: a, password_hash: "$pbkdf2-sha256$i=99999999$${salt}$${hash}" }
`);
  await assert.rejects(
    startGateway(yaml),
    (e: unknown) => e instanceof ConfigError && /password_hash/.test(e.message),
  );
});

Deno.test("hashMatches() remembers verified credentials as HMACs only, never wrong ones", async () => {
  const stored = parsePasswordHash(await hashPassword("right-password-1234", 1000))!;
  const before = verifiedCredentials.size;
  assert.equal(await hashMatches(stored, "wrong-password"), false);
  assert.equal(verifiedCredentials.size, before);
  assert.equal(await hashMatches(stored, "right-password-1234"), true);
  assert.equal(verifiedCredentials.size, before + 1);
  const key = verifiedCredentials.key(stored, "right-password-1234");
  assert.ok(verifiedCredentials.has(key));
  assert.ok(!key.includes("right-password"));
  assert.equal(await hashMatches(stored, "right-password-1234"), true);
});

Deno.test("/authenticate under 200 concurrent wrong passwords for a hashed user: 401 or fast 503, /health responsive (T07, RL14)", async () => {
  const hash = await hashPassword("alice-password", 100_000);
  await using gw = await startGateway(testConfig(`
auth: { timeout_in_ms: 20000, brute_force: { enabled: false } }
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: alice, password_hash: "${hash}", roles: [user] }
`));
  const flood = Array.from(
    { length: 200 },
    (_, i) =>
      gw.request("/authenticate", { headers: { authorization: basicAuth(`alice:wrong-${i}`) } }),
  );
  await new Promise((r) => setTimeout(r, 20));
  const healthStarted = performance.now();
  const health = await gw.request("/health");
  const healthMs = performance.now() - healthStarted;
  const statuses = (await Promise.all(flood)).map(({ res }) => res.status);
  assert.equal(health.res.status, 200);
  assert.ok(healthMs < 1000, `/health took ${healthMs} ms during the flood`);
  const counts = Object.groupBy(statuses, (s) => String(s));
  assert.deepEqual(Object.keys(counts).sort(), ["401", "503"], JSON.stringify(counts));
  assert.ok(
    counts["401"]!.length <= HASH_CONCURRENCY + HASH_QUEUE + 50,
    `at most about limit + queue verifications ran: ${counts["401"]!.length}`,
  );
  const ok = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:alice-password") },
  });
  assert.equal(ok.res.status, 200, "after the flood the real user gets in");
});
