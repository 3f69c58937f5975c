import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).href;
const PLAIN = `providers:
  - name: local
    type: plain
    realm: r
    users: [{ username: alice, password: alice-pw, roles: [reader] }]
`;

type Gw = Awaited<ReturnType<typeof startGateway>>;

async function authenticate(gw: Gw, authorization: string, realm?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization };
  if (realm !== undefined) headers["x-auth-realm"] = realm;
  return (await gw.request("/authenticate", { headers })).res;
}

/** The value of one metric line (`name{labels}`) in /metrics, or 0. */
async function metric(gw: Gw, series: string): Promise<number> {
  const { body } = await gw.request(gw.metricsUrl + "/metrics");
  const line = body.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const ATTEMPTS =
  'auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="r",result="success"}';

Deno.test("decision cache: a repeated credential skips the providers and gets a JWT", async () => {
  await using gw = await startGateway(testConfig(PLAIN));
  const first = await authenticate(gw, basicAuth("alice:alice-pw"));
  const second = await authenticate(gw, basicAuth("alice:alice-pw"));
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.equal(second.headers.get("authorization"), first.headers.get("authorization"));
  assert.equal(await metric(gw, ATTEMPTS), 1, "the provider ran once");
  assert.equal(await metric(gw, 'authotron_decision_cache_requests_total{result="hit"}'), 1);
  assert.equal(await metric(gw, 'auth_requests_total{realm="r",result="success"}'), 2);
  assert.ok(gw.logs.some((l) => l.includes('"cached":true')), "hits are logged");
});

Deno.test("decision cache: a reused response carries the same headers and body, also for HEAD", async () => {
  await using gw = await startGateway(
    testConfig(`include_legacy_headers: true\n${PLAIN}`),
  );
  const seen: string[] = [];
  for (const method of ["GET", "GET", "HEAD", "GET"]) {
    const { res, body } = await gw.request("/authenticate", {
      method,
      headers: { authorization: basicAuth("alice:alice-pw") },
    });
    assert.equal(res.status, 200);
    assert.equal(body, method === "HEAD" ? "" : "Authenticated successfully");
    assert.equal(res.headers.get("x-auth-roles"), "reader");
    seen.push(res.headers.get("authorization")!);
  }
  assert.equal(new Set(seen).size, 1);
  assert.equal(gw.gateway.decisions.stats.hits, 3);
});

Deno.test("decision cache: a wrong password or another realm after a success is still refused", async () => {
  await using gw = await startGateway(testConfig(PLAIN));
  assert.equal((await authenticate(gw, basicAuth("alice:alice-pw"))).status, 200);
  assert.equal((await authenticate(gw, basicAuth("alice:wrong"))).status, 401);
  assert.equal((await authenticate(gw, basicAuth("alice:alice-pw"), "other")).status, 401);
  assert.equal((await authenticate(gw, basicAuth("alice:alice-pw"), "r")).status, 200);
  assert.equal(await metric(gw, ATTEMPTS), 2, "the realm-filtered request was a new decision");
});

Deno.test("decision cache: auth.decision_cache_ttl_ms 0 turns it off", async () => {
  await using gw = await startGateway(testConfig(`auth: { decision_cache_ttl_ms: 0 }\n${PLAIN}`));
  assert.equal(gw.gateway.config.auth.decisionCacheTtlMs, 0);
  for (let i = 0; i < 3; i++) {
    assert.equal((await authenticate(gw, basicAuth("alice:alice-pw"))).status, 200);
  }
  assert.equal(await metric(gw, ATTEMPTS), 3);
  const { body } = await gw.request(gw.metricsUrl + "/metrics");
  assert.ok(!body.includes("authotron_decision_cache"), "no cache metrics when it is off");
});

Deno.test("decision cache: upstream outages and skipped augmenters are not cached", async () => {
  await using gw = await startGateway(testConfig(`providers:
  - { module: ${FIXTURES}test_bearer.ts, name: down, realm: r, mode: unavailable }
  - { module: ${FIXTURES}test_bearer.ts, name: good, realm: s, token: t1, username: u1 }
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: broken, realm: s, mode: throw, on_error: skip }
`));
  for (let i = 0; i < 2; i++) {
    assert.equal((await authenticate(gw, "Bearer t0", "r")).status, 503);
    assert.equal((await authenticate(gw, "Bearer t1", "s")).status, 200);
  }
  assert.equal(gw.gateway.decisions.size, 0);
  assert.equal(gw.gateway.decisions.stats.hits, 0);
});

Deno.test("decision cache: invalidateUser() makes the next request re-authenticate", async () => {
  await using gw = await startGateway(testConfig(PLAIN));
  await authenticate(gw, basicAuth("alice:alice-pw"));
  assert.equal(gw.gateway.decisions.invalidateUser("alice", "r"), 1);
  await authenticate(gw, basicAuth("alice:alice-pw"));
  assert.equal(await metric(gw, ATTEMPTS), 2);
});

Deno.test("config: auth.decision_cache_ttl_ms accepts 0 to 60000 only", async () => {
  for (const bad of ["-1", "60001", "x"]) {
    await assert.rejects(
      startGateway(testConfig(`auth: { decision_cache_ttl_ms: ${bad} }\n${PLAIN}`)),
      /auth\.decision_cache_ttl_ms: expected an integer between 0 and 60000/,
    );
  }
});

Deno.test("decision cache: deleting a store token stops it at once, even while cached", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-decision-" });
  try {
    await using gw = await startGateway(
      testConfig(PLAIN, { store: `{ enabled: true, path: "${dir}/tokens.kv" }` }),
    );
    const basic = basicAuth("alice:alice-pw");
    const created = await gw.request("/tokens", {
      method: "POST",
      headers: { authorization: basic },
    });
    assert.equal(created.res.status, 200);
    const token = (JSON.parse(created.body) as { token: string }).token;
    for (let i = 0; i < 3; i++) {
      assert.equal((await authenticate(gw, `Bearer ${token}`)).status, 200);
    }
    assert.ok(gw.gateway.decisions.stats.hits >= 2, "the token's decision was cached");
    const deleted = await gw.request(`/token/${token}`, {
      method: "DELETE",
      headers: { authorization: basic },
    });
    assert.equal(deleted.res.status, 204);
    assert.equal((await authenticate(gw, `Bearer ${token}`)).status, 401);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
