// /ready on both listeners, its checks and shutdown behaviour; /status on the
// metrics listener only, with plugin state, last errors and caches.
import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";
import { Readiness } from "../../lib/http/readiness.ts";
import { startGateway, testConfig } from "../support/gateway.ts";
import { authenticate, closedPort, FIXTURES, startUpstream } from "./helpers.ts";

Deno.test("/ready answers 200 on both listeners once the gateway is up", async () => {
  await using gw = await startGateway(testConfig("providers: []"));
  for (const base of [gw.url, gw.metricsUrl!]) {
    const { res, body } = await gw.request(`${base}/ready`);
    assert.equal(res.status, 200, base);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(JSON.parse(body), { ready: true, shutting_down: false, checks: {} });
  }
  const { res } = await gw.request(`${gw.url}/status`);
  assert.equal(res.status, 404, "/status is not on the application listener");
});

Deno.test("/ready: a failing, throwing or hanging registered check makes it 503", async () => {
  await using gw = await startGateway(testConfig("providers: []"));
  let storeUp = true;
  gw.gateway.readiness.add("store", () => storeUp);
  assert.equal((await gw.request("/ready")).res.status, 200);
  storeUp = false;
  const down = await gw.request("/ready");
  assert.equal(down.res.status, 503);
  assert.deepEqual(JSON.parse(down.body).checks, { store: false });
  storeUp = true;
  gw.gateway.readiness.add("flaky", () => Promise.reject(new Error("boom")));
  const flaky = await gw.request(`${gw.metricsUrl}/ready`);
  assert.equal(flaky.res.status, 503);
  assert.deepEqual(JSON.parse(flaky.body).checks, { store: true, flaky: false });
});

Deno.test("Readiness.evaluate() bounds a hanging check and aborts its signal", async () => {
  const readiness = new Readiness(50);
  let aborted = false;
  readiness.add("hang", (signal) =>
    new Promise<boolean>((resolve) => {
      signal.addEventListener("abort", () => {
        aborted = true;
        resolve(true); // too late: the timeout already answered false
      });
    }));
  const report = await readiness.evaluate();
  assert.deepEqual(report, { ready: false, shuttingDown: false, checks: { hang: false } });
  assert.ok(aborted);
});

Deno.test("/ready answers within 100 ms on both listeners even when a registered check hangs", async () => {
  await using gw = await startGateway(testConfig("providers: []"));
  gw.gateway.readiness.add("hang", () => new Promise<boolean>(() => {}));
  for (const base of [gw.url, gw.metricsUrl!]) {
    const started = performance.now();
    const { res, body } = await gw.request(`${base}/ready`);
    const ms = performance.now() - started;
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(body).checks, { hang: false });
    assert.ok(ms < 100, `/ready took ${ms} ms`);
  }
});

Deno.test("/ready: an identity-provider outage does not make the gateway unready", async () => {
  const dead = `http://127.0.0.1:${await closedPort()}/check`;
  await using gw = await startGateway(testConfig(
    `providers:\n  - { module: ${FIXTURES}observable_bearer.ts, name: idp, realm: r, upstream: "${dead}" }\n`,
  ));
  assert.equal((await authenticate(gw.url, "Bearer tok-1234")).status, 503);
  assert.equal((await gw.request("/ready")).res.status, 200);
});

Deno.test("/ready answers 503 as soon as shutdown starts, while a request drains", async () => {
  const gw = await startGateway(testConfig(
    "auth: { timeout_in_ms: 2000 }\nproviders:\n" +
      `  - { module: ${FIXTURES}test_bearer.ts, name: slow, realm: r, token: t, username: u, delay_ms: 400 }\n`,
  ));
  try {
    const inFlight = authenticate(gw.url, "Bearer t");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = gw.running.shutdown();
    for (const handler of [gw.gateway.appHandler, gw.gateway.metricsHandler]) {
      const res = await handler(new Request("http://gateway/ready"));
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { ready: false, shutting_down: true, checks: {} });
    }
    assert.equal((await inFlight).status, 200, "the in-flight request still completes");
    await stopping;
  } finally {
    await gw.running.shutdown();
    await Deno.remove(gw.dir, { recursive: true });
  }
});

Deno.test("/status lists plugins with state, last error and caches, never options", async () => {
  await using upstream = startUpstream();
  const dead = `http://127.0.0.1:${await closedPort()}/check`;
  await using gw = await startGateway(testConfig(`providers:
  - type: plain
    name: local
    realm: default
    users: [{ username: alice, password: status-secret-pw, roles: [] }]
  - { module: ${FIXTURES}observable_bearer.ts, name: remote, realm: r, upstream: "${upstream.url}",
      jwks: [{ uri: "https://idp.example/jwks", age_seconds: 5, last_error: null, keys: 1,
               client_secret: "leaky-status-secret" }] }
  - { module: ${FIXTURES}observable_bearer.ts, name: dead, realm: d, upstream: "${dead}" }
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: broken, realm: default, mode: throw }
`));
  assert.equal((await authenticate(gw.url, "Bearer good", "r")).status, 200);
  assert.equal((await authenticate(gw.url, "Bearer boom-status-token", "r")).status, 503);
  assert.equal((await authenticate(gw.url, "Bearer dead-status-token", "d")).status, 503);
  const basic = "Basic " + btoa("alice:status-secret-pw");
  assert.equal((await authenticate(gw.url, basic)).status, 200);

  const { res, body } = await gw.request(`${gw.metricsUrl}/status`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  for (const secret of ["status-secret-pw", "boom-status-token", "dead-status-token", "leaky"]) {
    assert.ok(!body.includes(secret), `/status leaks ${secret}`);
  }
  assert.ok(!body.includes("users"), "options are never shown");
  const status = JSON.parse(body);
  assert.equal(status.version, VERSION);
  assert.equal(status.ready, true);
  assert.ok(status.uptime_seconds >= 0);
  const byName = Object.fromEntries(
    status.plugins.map((p: { name: string }) => [p.name, p]),
  );
  assert.deepEqual(Object.keys(byName), ["local", "remote", "dead", "broken"]);
  assert.deepEqual(
    { ...byName.local, last_error: undefined },
    {
      name: "local",
      kind: "provider",
      type: "plain",
      scheme: "Basic",
      realm: "default",
      state: null,
      last_error: undefined,
    },
  );
  assert.equal(byName.local.last_error, null);
  assert.equal(byName.remote.state.jwks[0].age_seconds, 5);
  assert.equal(byName.remote.state.jwks[0].client_secret, "[REDACTED]");
  assert.equal(byName.remote.last_error.result, "upstream_unavailable");
  assert.equal(byName.remote.last_error.kind, "5xx");
  assert.equal(byName.dead.last_error.kind, "refused");
  assert.match(byName.dead.last_error.at, /^\d{4}-\d\d-\d\dT/);
  assert.equal(byName.broken.kind, "augmenter");
  assert.equal(byName.broken.last_error.result, "error");
  assert.match(byName.broken.last_error.message, /augmenter bug/);
  const caches = Object.fromEntries(
    status.caches.map((c: { name: string }) => [c.name, c]),
  );
  assert.deepEqual(caches["remote/verdicts"], {
    name: "remote/verdicts",
    entries: 1,
    hits: 0,
    misses: 2,
    evictions: 0,
  });
});
