// A PostgreSQL outage seen from the gateway: token operations fail fast with 503 and change
// nothing, /ready stays 200 and fast, /status, the metric and the logs tell the story, and the
// gateway follows the database back within about a second.
import assert from "node:assert/strict";
import { reportMeasurement } from "../support/bearer.ts";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { startPostgres } from "../support/postgres.ts";
import { sleep, systemTest } from "../support/system.ts";

const ALICE = { authorization: basicAuth("alice:alice-pw") };

function config(uri: string): string {
  return testConfig(
    `auth: { timeout_in_ms: 1000 }
providers:
  - type: plain
    name: demo-users
    realm: demo
    users:
      - { username: alice, password: alice-pw, roles: [user] }
`,
    { store: `{ enabled: true, type: postgres, uri: "${uri}" }` },
  );
}

async function timed(
  gw: TestGateway,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const { res, body } = await gw.request(path, init);
  return { status: res.status, body, ms: performance.now() - started };
}

async function tokenIds(gw: TestGateway): Promise<string[]> {
  const { res, body } = await gw.request("/tokens", { headers: ALICE });
  assert.equal(res.status, 200, body);
  return JSON.parse(body).tokens.map((t: { id: string }) => t.id).sort();
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

function events(gw: TestGateway, name: string): Record<string, unknown>[] {
  return gw.logs.map((line) => JSON.parse(line).attributes)
    .filter((attributes) => attributes["event.name"] === name);
}

systemTest(
  "PostgreSQL outage: 503s fail fast and change nothing, /ready stays 200 in < 100 ms, recovery is logged",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await using gw = await startGateway(config(pg.uri));
    const kept = JSON.parse((await gw.request("/token", { headers: ALICE })).body);
    const target = JSON.parse((await gw.request("/token", { headers: ALICE })).body);
    const before = await tokenIds(gw);
    const status = async () =>
      JSON.parse((await gw.request(`${gw.metricsUrl}/status`)).body).token_store;
    assert.equal((await status()).available, true);

    await pg.stop();
    // The first failed operation marks the store unavailable.
    assert.equal((await timed(gw, "/authenticate", bearer(kept.token))).status, 503);
    assert.equal(events(gw, "store.unavailable").length, 1);
    const down = await status();
    assert.equal(down.available, false);
    assert.equal(down.backend, "postgres");
    assert.match(down.last_error, /postgres/);
    const metrics = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
    assert.match(metrics, /authotron_token_store_up\{backend="postgres"\} 0/);

    // From now on every token operation fails fast instead of waiting for the timeout.
    const remove = await timed(gw, `/token/${target.id}`, { method: "DELETE", headers: ALICE });
    assert.equal(remove.status, 503);
    assert.equal(remove.body, '{"error":"Token store unavailable"}');
    const create = await timed(gw, "/tokens", { method: "POST", headers: ALICE });
    assert.equal(create.status, 503);
    const opaque = await timed(gw, "/authenticate", bearer(target.token));
    assert.equal(opaque.status, 503);
    reportMeasurement("token DELETE answered while the store is down (ms)", Math.round(remove.ms));
    for (const answer of [remove, create, opaque]) {
      assert.ok(answer.ms < 300, `answered in ${answer.ms} ms, not after the 1 s timeout`);
    }
    // Basic still works, and the shared store is not a readiness condition.
    assert.equal((await timed(gw, "/authenticate", { headers: ALICE })).status, 200);
    for (const base of [gw.url, gw.metricsUrl!]) {
      const ready = await timed(gw, `${base}/ready`);
      assert.equal(ready.status, 200, ready.body);
      assert.ok(ready.ms < 100, `/ready took ${ready.ms} ms`);
    }

    await pg.start();
    const back = performance.now();
    while ((await gw.request("/authenticate", bearer(kept.token))).res.status !== 200) {
      assert.ok(performance.now() - back < 3000, "recovered within the probe interval");
      await sleep(100);
    }
    reportMeasurement(
      "opaque token accepted again after PostgreSQL restarted (ms)",
      Math.round(performance.now() - back),
    );
    assert.equal(events(gw, "store.recovered").length, 1);
    assert.equal((await status()).available, true);
    // The DELETE and the POST answered 503 were not applied, now or later.
    await sleep(1500);
    assert.deepEqual(await tokenIds(gw), before);
    assert.equal((await gw.request("/authenticate", bearer(target.token))).res.status, 200);
    assert.equal(
      gw.logs.some((line) => line.includes(target.token) || line.includes("gwpw")),
      false,
    );
  },
);
