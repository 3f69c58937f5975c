// Scrapes /metrics of real gateways after scripted traffic (spec 9, checklist
// rows 125–138) and checks the operator families: upstream failures by kind,
// plugin caches and JWKS freshness.
import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { authenticate, closedPort, FIXTURES, scrape, startUpstream } from "./helpers.ts";

const LOCAL = 'provider_name="local",provider_type="Basic",realm="default"';
const AUTH_BUCKETS = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5"];

const PLAIN_GATEWAY = testConfig(`providers:
  - type: plain
    name: local
    realm: default
    users:
      - { username: alice, password: alice-password, roles: [reader] }
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: extra, realm: default, roles: [x] }
`);

function les(series: Map<string, number>, family: string): string[] {
  const out: string[] = [];
  for (const key of series.keys()) {
    const m = new RegExp(`^${family}_bucket\\{.*le="([^"]+)"\\}$`).exec(key);
    if (m && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

Deno.test("/metrics right after boot: pre-initialised series, build info, buckets (rows 125-127, 138)", async () => {
  await using gw = await startGateway(PLAIN_GATEWAY);
  const m = await scrape(gw.metricsUrl!);
  for (const result of ["all_failed", "no_auth_header", "invalid_header"]) {
    assert.equal(m.get(`auth_requests_total{realm="unknown",result="${result}"}`), 0, result);
  }
  assert.equal(m.get('auth_requests_total{realm="unknown",result="success"}'), 0);
  assert.equal(m.get('auth_requests_total{realm="default",result="success"}'), 0);
  for (const result of ["success", "error", "timeout"]) {
    assert.equal(m.get(`auth_provider_attempts_total{${LOCAL},result="${result}"}`), 0, result);
  }
  assert.equal(m.get(`authotron_build_info{version="${VERSION}"}`), 1);
  assert.deepEqual(les(m, "auth_duration_seconds"), [...AUTH_BUCKETS, "5", "10", "+Inf"]);
  assert.deepEqual(les(m, "auth_provider_duration_seconds"), [...AUTH_BUCKETS, "5", "+Inf"]);
  assert.deepEqual(les(m, "augmenter_duration_seconds"), [...AUTH_BUCKETS, "+Inf"]);
  assert.ok(![...m.keys()].some((k) => k.startsWith("authotron_http_")), "no HTTP series yet");
});

Deno.test("/metrics after scripted traffic: auth, provider, augmenter and HTTP series move (rows 128-136)", async () => {
  await using gw = await startGateway(PLAIN_GATEWAY);
  const ok = basicAuth("alice:alice-password");
  assert.equal((await authenticate(gw.url, basicAuth("alice:wrong"))).status, 401);
  assert.equal((await authenticate(gw.url, undefined)).status, 401);
  assert.equal((await authenticate(gw.url, "Basic a b")).status, 401);
  assert.equal((await authenticate(gw.url, ok)).status, 200);
  assert.equal((await gw.request("/")).res.status, 200);
  assert.equal((await gw.request("/nope")).res.status, 404);
  assert.equal((await gw.request("/token/some-token", { method: "DELETE" })).res.status, 401);
  for (let i = 0; i < 3; i++) await scrape(gw.metricsUrl!);
  await gw.request(`${gw.metricsUrl}/health`);
  await gw.request(`${gw.metricsUrl}/status`);

  const m = await scrape(gw.metricsUrl!);
  // row 128: failed login
  assert.equal(m.get('auth_requests_total{realm="unknown",result="all_failed"}'), 1);
  assert.equal(m.get(`auth_provider_attempts_total{${LOCAL},result="error"}`), 1);
  // row 129: missing and malformed header
  // (the unauthenticated DELETE /token/x is a missing header too)
  assert.equal(m.get('auth_requests_total{realm="unknown",result="no_auth_header"}'), 2);
  assert.equal(m.get('auth_requests_total{realm="unknown",result="invalid_header"}'), 1);
  // row 130: success under the user's realm, with a duration observation
  assert.equal(m.get('auth_requests_total{realm="default",result="success"}'), 1);
  assert.equal(m.get('auth_duration_seconds_count{realm="default",result="success"}'), 1);
  assert.equal(m.get(`auth_provider_attempts_total{${LOCAL},result="success"}`), 1);
  assert.equal(m.get(`auth_provider_duration_seconds_count{${LOCAL}}`), 2);
  // row 132: the augmenter ran once for the successful login (type = its module label)
  const attempts = [...m.keys()].find((k) => k.startsWith("augmenter_attempts_total{"))!;
  const type = /augmenter_type="([^"]+)"/.exec(attempts)![1];
  const aug = `augmenter_name="extra",augmenter_type="${type}",realm="default"`;
  assert.equal(m.get(`augmenter_attempts_total{${aug},result="success"}`), 1);
  assert.equal(m.get(`augmenter_attempts_total{${aug},result="error"}`), 0);
  assert.equal(
    m.get(`augmenter_duration_seconds_count{augmenter_type="${type}",realm="default"}`),
    1,
  );
  // rows 133-135: HTTP series by route pattern
  assert.equal(m.get('authotron_http_requests_total{method="GET",route="/",status_code="200"}'), 1);
  assert.equal(m.get('authotron_http_request_duration_seconds_count{method="GET",route="/"}'), 1);
  assert.equal(m.get('authotron_http_requests_in_flight{method="GET"}'), 0);
  assert.equal(
    m.get('authotron_http_requests_total{method="GET",route="unmatched",status_code="404"}'),
    1,
  );
  assert.equal(
    m.get(
      'authotron_http_requests_total{method="DELETE",route="/token/{token}",status_code="401"}',
    ),
    1,
  );
  assert.equal(
    m.get('authotron_http_requests_total{method="GET",route="/authenticate",status_code="401"}'),
    3,
  );
  // row 136: nothing from the metrics port is counted
  const routes = [...m.keys()].filter((k) => k.startsWith("authotron_http_requests_total"))
    .map((k) => /route="([^"]*)"/.exec(k)![1]);
  assert.deepEqual([...new Set(routes)].sort(), [
    "/",
    "/authenticate",
    "/token/{token}",
    "unmatched",
  ]);
  // the raw path never becomes a label
  assert.ok(![...m.keys()].some((k) => k.includes("some-token") || k.includes("/nope")));
});

Deno.test("/metrics: provider timeout, upstream failures by kind, caches and JWKS (rows 131, 137)", async () => {
  await using upstream = startUpstream();
  const dead = `http://127.0.0.1:${await closedPort()}/check`;
  const jwksOk =
    `[{ uri: "https://idp.example/jwks", age_seconds: 42, last_error: null, keys: 2 }]`;
  const jwksBad =
    `[{ uri: "https://a.example/jwks", age_seconds: 7, last_error: "refresh failed: 503", keys: 1 },
              { uri: "https://b.example/jwks", age_seconds: 99, last_error: null, keys: 1 }]`;
  // decision_cache_ttl_ms 0: the provider's own verdict cache is what is counted here.
  await using gw = await startGateway(
    testConfig(`auth: { timeout_in_ms: 300, decision_cache_ttl_ms: 0 }
providers:
  - { module: ${FIXTURES}test_bearer.ts, name: slow, realm: s, mode: hang }
  - { module: ${FIXTURES}observable_bearer.ts, name: remote, realm: r, upstream: "${upstream.url}", jwks: ${jwksOk} }
  - { module: ${FIXTURES}observable_bearer.ts, name: dead, realm: d, upstream: "${dead}",
      jwks: ${jwksBad} }
`),
  );
  const before = await scrape(gw.metricsUrl!);
  assert.ok(![...before.keys()].some((k) => k.startsWith("augmenter_")), "row 137");
  assert.ok(![...before.keys()].some((k) => k.startsWith("authotron_upstream_failures_total")));
  assert.equal(before.get('authotron_cache_misses_total{cache="remote/verdicts"}'), 0);

  assert.equal((await authenticate(gw.url, "Bearer good", "r")).status, 200);
  assert.equal((await authenticate(gw.url, "Bearer good", "r")).status, 200);
  assert.equal((await authenticate(gw.url, "Bearer boom", "r")).status, 503);
  assert.equal((await authenticate(gw.url, "Bearer anything", "d")).status, 503);
  assert.equal((await authenticate(gw.url, "Bearer anything", "s")).status, 503);
  assert.deepEqual(upstream.seen, ["good", "boom"]);

  const m = await scrape(gw.metricsUrl!);
  const slow = 'provider_name="slow",provider_type="Bearer",realm="s"';
  assert.equal(m.get(`auth_provider_attempts_total{${slow},result="timeout"}`), 1);
  assert.equal(m.get(`auth_provider_duration_seconds_count{${slow}}`), 0, "no duration on timeout");
  assert.equal(m.get('auth_requests_total{realm="unknown",result="upstream_unavailable"}'), 3);
  assert.equal(m.get('authotron_upstream_failures_total{kind="timeout",provider_name="slow"}'), 1);
  assert.equal(m.get('authotron_upstream_failures_total{kind="5xx",provider_name="remote"}'), 1);
  assert.equal(m.get('authotron_upstream_failures_total{kind="refused",provider_name="dead"}'), 1);
  assert.equal(m.get('authotron_cache_hits_total{cache="remote/verdicts"}'), 1);
  assert.equal(m.get('authotron_cache_misses_total{cache="remote/verdicts"}'), 2);
  assert.equal(m.get('authotron_cache_entries{cache="remote/verdicts"}'), 1);
  assert.equal(m.get('authotron_cache_evictions_total{cache="remote/verdicts"}'), 0);
  assert.equal(m.get('authotron_cache_misses_total{cache="dead/verdicts"}'), 1);
  assert.equal(m.get('authotron_cache_entries{cache="dead/verdicts"}'), 0, "failures not cached");
  assert.equal(m.get('authotron_jwks_age_seconds{provider_name="remote"}'), 42);
  assert.equal(m.get('authotron_jwks_refresh_failing{provider_name="remote"}'), 0);
  assert.equal(m.get('authotron_jwks_age_seconds{provider_name="dead"}'), 99, "oldest key set");
  assert.equal(m.get('authotron_jwks_refresh_failing{provider_name="dead"}'), 1);
  assert.ok(![...m.keys()].some((k) => k.includes('provider_name="slow"') && k.includes("jwks")));
  for (const key of m.keys()) {
    assert.ok(!/good|boom|anything/.test(key), `client input in a label: ${key}`);
  }
});
