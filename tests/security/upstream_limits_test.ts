/**
 * #22 F6: a flood of distinct garbage Bearer values costs the identity service
 * a bounded load. Each provider entry's upstream requests are bounded
 * (`upstream_max_concurrent`, `upstream_max_per_second`); beyond a bound the
 * check fails at once as "cannot decide" (503), counted and logged. Values an
 * API key cannot be are rejected without any upstream call.
 */
import assert from "node:assert/strict";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import {
  createUpstreamHttp,
  LIMITED_KIND,
  limitUpstream,
} from "../../packages/plugin/_host/upstream.ts";
import { startGateway } from "../support/gateway.ts";
import { bearerConfig } from "../support/bearer.ts";
import { json, startIdentityUpstream } from "../support/identity_upstream.ts";

/** An upstream that answers 403 after `delayMs`, recording the peak of requests in flight. */
function slowUpstream(delayMs: number) {
  let inFlight = 0;
  const stats = { peak: 0 };
  const up = startIdentityUpstream(async () => {
    stats.peak = Math.max(stats.peak, ++inFlight);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return json({ message: "Invalid API key" }, 403);
  });
  return { up, stats };
}

Deno.test("limitUpstream() refuses beyond max_concurrent at once, without reaching the upstream", async () => {
  const { up, stats } = slowUpstream(100);
  await using _up = up;
  const reasons: string[] = [];
  const http = limitUpstream(
    createUpstreamHttp(),
    { maxConcurrent: 2, maxPerSecond: 0 },
    (r) => reasons.push(r),
  );
  const call = () => http.request(up.url, { signal: AbortSignal.timeout(2000) });
  const results = await Promise.allSettled([call(), call(), call(), call()]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "rejected",
    "rejected",
  ]);
  const refused = (results[2] as PromiseRejectedResult).reason;
  assert.ok(refused instanceof UpstreamUnavailableError);
  assert.equal(refused.kind, LIMITED_KIND);
  assert.deepEqual(reasons, ["concurrency", "concurrency"]);
  assert.equal(up.requests.length, 2);
  assert.equal(stats.peak, 2);
  // Slots are released when a request ends.
  assert.equal((await call()).status, 403);
});

Deno.test("limitUpstream() allows max_per_second with a one-second burst, refilled over time", async () => {
  await using up = startIdentityUpstream(() => json({}, 403));
  let clock = 0;
  const reasons: string[] = [];
  const http = limitUpstream(
    createUpstreamHttp(),
    { maxConcurrent: 0, maxPerSecond: 4 },
    (r) => reasons.push(r),
    () => clock,
  );
  const call = () =>
    http.request(up.url, { signal: AbortSignal.timeout(2000) }).then(() => "ok", (e) => e.kind);
  const burst = [];
  for (let i = 0; i < 6; i++) burst.push(await call());
  assert.deepEqual(burst, ["ok", "ok", "ok", "ok", "limited", "limited"]);
  clock += 250; // a quarter second refills one request
  assert.deepEqual([await call(), await call()], ["ok", "limited"]);
  clock += 10_000; // never more than one second's worth
  const later = [];
  for (let i = 0; i < 5; i++) later.push(await call());
  assert.deepEqual(later, ["ok", "ok", "ok", "ok", "limited"]);
  assert.equal(up.requests.length, 9);
  assert.ok(reasons.every((r) => r === "rate"));
});

Deno.test("F6: a flood of distinct garbage keys costs the vendor a bounded load; the limit is counted and logged", async () => {
  const { up, stats } = slowUpstream(200);
  await using _up = up;
  await using gw = await startGateway(
    bearerConfig(
      `  - type: ecmwf-api
    name: api
    realm: ecmwf
    uri: ${up.url}/v1/
    upstream_max_concurrent: 3
    upstream_max_per_second: 6`,
    ).replace("auth:\n", "auth:\n  brute_force: { enabled: false }\n"),
  );
  const flood = await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) =>
        fetch(`${gw.url}/authenticate`, { headers: { authorization: `Bearer garbage${i}` } })
          .then(async (res) => {
            await res.body?.cancel();
            return res.status;
          }),
    ),
  );
  assert.ok(up.requests.length <= 6, `upstream calls: ${up.requests.length}`);
  assert.ok(stats.peak <= 3, `peak in flight: ${stats.peak}`);
  assert.equal(flood.filter((s) => s === 401).length, up.requests.length, "checked keys: 401");
  assert.equal(flood.filter((s) => s === 503).length, 60 - up.requests.length, "the rest: 503");
  const metrics = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  const limited = metrics.match(
    /authotron_upstream_failures_total\{kind="limited",provider_name="api"\} (\d+)/,
  );
  assert.equal(Number(limited?.[1]), 60 - up.requests.length);
  const logged = gw.logs.filter((l) => l.includes('"provider.upstream.limited"'));
  assert.ok(logged.length >= 1 && logged.length < 10, `logged, rate-limited: ${logged.length}`);
  assert.match(logged[0]!, /"reason":"(concurrency|rate)"/);
});

Deno.test("F6: values an API key cannot be are rejected without an upstream call", async () => {
  await using up = startIdentityUpstream(() => json({ uid: "adam" }));
  await using gw = await startGateway(bearerConfig(`  - type: ecmwf-api
    name: api
    realm: ecmwf
    uri: ${up.url}/v1/`));
  for (const garbage of ["a&token=b", "x#y", "100%", "a=b", "x:y", "k".repeat(8193)]) {
    const res = await fetch(`${gw.url}/authenticate`, {
      headers: { authorization: `Bearer ${garbage}` },
    });
    await res.body?.cancel();
    assert.equal(res.status, 401, garbage.slice(0, 20));
  }
  assert.equal(up.requests.length, 0, "no upstream call");
  const ok = await fetch(`${gw.url}/authenticate`, {
    headers: { authorization: "Bearer 0123456789abcdef0123456789abcdef" },
  });
  await ok.body?.cancel();
  assert.equal(ok.status, 200, "a real key shape still reaches the API");
  assert.equal(up.requests.length, 1);
});
