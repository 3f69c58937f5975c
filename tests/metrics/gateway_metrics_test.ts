import assert from "node:assert/strict";
import {
  type AugmenterLabels,
  DURATION_BUCKETS,
  GatewayMetrics,
  type ProviderLabels,
} from "../../lib/observability/metrics.ts";
import { assertValidExposition } from "./exposition.ts";

const local: ProviderLabels = { name: "local", scheme: "Basic", realm: "default" };
const jwt: ProviderLabels = { name: "keycloak", scheme: "Bearer", realm: "ecmwf" };
const store: ProviderLabels = { name: "token-store", scheme: "Bearer", realm: "unknown" };
const ldap: AugmenterLabels = { name: "directory", type: "ldap", realm: "ldaprealm" };

function boot(augmenters: AugmenterLabels[] = [ldap]): GatewayMetrics {
  return new GatewayMetrics({ version: "0.4.0", providers: [local, jwt, store], augmenters });
}

/** Renders, validates the format, and returns the set of lines. */
function lines(metrics: GatewayMetrics): Set<string> {
  const text = metrics.render();
  assertValidExposition(text);
  return new Set(text.split("\n"));
}

function value(metrics: GatewayMetrics, series: string): number | undefined {
  return assertValidExposition(metrics.render()).get(series);
}

Deno.test("GatewayMetrics() pre-initialises the spec 9.2 series at boot", () => {
  const out = lines(boot());
  for (
    const line of [
      'auth_requests_total{realm="unknown",result="all_failed"} 0',
      'auth_requests_total{realm="unknown",result="no_auth_header"} 0',
      'auth_requests_total{realm="unknown",result="invalid_header"} 0',
      'auth_requests_total{realm="unknown",result="upstream_unavailable"} 0',
      'auth_requests_total{realm="unknown",result="success"} 0',
      'auth_requests_total{realm="default",result="success"} 0',
      'auth_requests_total{realm="ecmwf",result="success"} 0',
      'auth_requests_total{realm="ldaprealm",result="success"} 0',
      'auth_duration_seconds_count{realm="unknown",result="all_failed"} 0',
      'auth_duration_seconds_count{realm="ecmwf",result="success"} 0',
      'auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="default",result="error"} 0',
      'auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="default",result="success"} 0',
      'auth_provider_attempts_total{provider_name="local",provider_type="Basic",realm="default",result="timeout"} 0',
      'auth_provider_attempts_total{provider_name="keycloak",provider_type="Bearer",realm="ecmwf",result="timeout"} 0',
      'auth_provider_attempts_total{provider_name="token-store",provider_type="Bearer",realm="unknown",result="success"} 0',
      'auth_provider_duration_seconds_bucket{provider_name="local",provider_type="Basic",realm="default",le="+Inf"} 0',
      'auth_provider_duration_seconds_sum{provider_name="local",provider_type="Basic",realm="default"} 0',
      'auth_provider_duration_seconds_count{provider_name="local",provider_type="Basic",realm="default"} 0',
      'augmenter_attempts_total{augmenter_name="directory",augmenter_type="ldap",realm="ldaprealm",result="success"} 0',
      'augmenter_attempts_total{augmenter_name="directory",augmenter_type="ldap",realm="ldaprealm",result="error"} 0',
      'augmenter_duration_seconds_count{augmenter_type="ldap",realm="ldaprealm"} 0',
      'authotron_build_info{version="0.4.0"} 1',
      "# HELP auth_requests_total Total number of authentication attempts",
      "# TYPE auth_requests_total counter",
      "# HELP auth_duration_seconds Authentication request duration in seconds",
      "# TYPE auth_duration_seconds histogram",
      "# HELP auth_provider_attempts_total Total authentication attempts per provider",
      "# HELP auth_provider_duration_seconds Provider authentication duration in seconds",
      "# HELP augmenter_attempts_total Total augmenter executions",
      "# HELP augmenter_duration_seconds Augmenter execution duration in seconds",
      "# HELP authotron_build_info Build information; constant 1 with the crate version as a label",
      "# TYPE authotron_build_info gauge",
    ]
  ) {
    assert.ok(out.has(line), `missing: ${line}`);
  }
});

Deno.test("GatewayMetrics() creates no failure series for configured realms", () => {
  const text = boot().render();
  for (const realm of ["default", "ecmwf", "ldaprealm"]) {
    for (const result of ["no_auth_header", "invalid_header", "all_failed"]) {
      assert.ok(!text.includes(`realm="${realm}",result="${result}"`), `${realm}/${result}`);
    }
  }
});

Deno.test("GatewayMetrics() omits augmenter and HTTP families until they have series", () => {
  const text = boot([]).render();
  assert.ok(!text.includes("augmenter_"), "no augmenter families without augmenters");
  assert.ok(!text.includes("authotron_http_"), "no HTTP families before the first request");
  assert.ok(text.includes("auth_provider_attempts_total"));
});

Deno.test("GatewayMetrics() uses the spec 9.1 buckets per histogram", () => {
  const text = boot().render();
  const les = (prefix: string) =>
    [...text.matchAll(new RegExp(`^${prefix}_bucket\\{[^}]*le="([^"]+)"\\}`, "gm"))]
      .map((m) => m[1]).filter((_, i, all) => all.indexOf(_) === i);
  const all = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5"];
  assert.deepEqual(les("auth_duration_seconds"), [...all, "5", "10", "+Inf"]);
  assert.deepEqual(les("auth_provider_duration_seconds"), [...all, "5", "+Inf"]);
  assert.deepEqual(les("augmenter_duration_seconds"), [...all, "+Inf"]);
  assert.deepEqual(DURATION_BUCKETS.map(String), [...all, "5", "10"]);
});

Deno.test("GatewayMetrics.recordAuth() counts failures under realm unknown", () => {
  const m = boot();
  m.recordAuth("all_failed", "default", 0.02);
  m.recordAuth("no_auth_header", "ecmwf", 0.0001);
  m.recordAuth("invalid_header", "unknown", 0.0001);
  const out = lines(m);
  assert.ok(out.has('auth_requests_total{realm="unknown",result="all_failed"} 1'));
  assert.ok(out.has('auth_requests_total{realm="unknown",result="no_auth_header"} 1'));
  assert.ok(out.has('auth_requests_total{realm="unknown",result="invalid_header"} 1'));
  assert.ok(
    out.has('auth_duration_seconds_bucket{realm="unknown",result="all_failed",le="0.01"} 0'),
  );
  assert.ok(
    out.has('auth_duration_seconds_bucket{realm="unknown",result="all_failed",le="0.025"} 1'),
  );
  assert.ok(
    ![...out].some((l) =>
      /^auth_(?:requests|duration)\w*\{realm="(?:default|ecmwf)",result="(?!success)/.test(l)
    ),
  );
});

Deno.test("GatewayMetrics.recordAuth() counts a success under the user's realm", () => {
  const m = boot();
  m.recordAuth("success", "ecmwf", 0.3);
  m.recordAuth("success", "ecmwf", 0.004);
  const out = lines(m);
  assert.ok(out.has('auth_requests_total{realm="ecmwf",result="success"} 2'));
  assert.ok(out.has('auth_duration_seconds_count{realm="ecmwf",result="success"} 2'));
  assert.ok(out.has('auth_duration_seconds_sum{realm="ecmwf",result="success"} 0.304'));
  assert.ok(out.has('auth_duration_seconds_bucket{realm="ecmwf",result="success",le="0.005"} 1'));
  assert.ok(out.has('auth_duration_seconds_bucket{realm="ecmwf",result="success",le="0.5"} 2'));
  assert.ok(out.has('auth_requests_total{realm="default",result="success"} 0'));
});

Deno.test("GatewayMetrics.recordProviderAttempt() records no duration on timeout", () => {
  const m = boot();
  m.recordProviderAttempt(local, "error", 0.002);
  m.recordProviderAttempt(local, "timeout", 5);
  m.recordProviderAttempt(local, "timeout");
  m.recordProviderAttempt(jwt, "success", 0.01);
  const key = 'provider_name="local",provider_type="Basic",realm="default"';
  assert.equal(value(m, `auth_provider_attempts_total{${key},result="error"}`), 1);
  assert.equal(value(m, `auth_provider_attempts_total{${key},result="timeout"}`), 2);
  assert.equal(value(m, `auth_provider_attempts_total{${key},result="success"}`), 0);
  assert.equal(value(m, `auth_provider_duration_seconds_count{${key}}`), 1);
  assert.equal(value(m, `auth_provider_duration_seconds_sum{${key}}`), 0.002);
});

Deno.test("GatewayMetrics.recordProviderAttempt() accepts an equal labels object", () => {
  const m = boot();
  m.recordProviderAttempt({ ...jwt }, "success", 0.01);
  m.recordProviderAttempt(jwt, "success", 0.01);
  const key = 'provider_name="keycloak",provider_type="Bearer",realm="ecmwf"';
  assert.equal(value(m, `auth_provider_attempts_total{${key},result="success"}`), 2);
});

Deno.test("GatewayMetrics.recordAugmenter() counts attempts and durations", () => {
  const m = boot();
  m.recordAugmenter(ldap, "ldaprealm", "success", 0.03);
  m.recordAugmenter(ldap, "ldaprealm", "error", 3);
  const attempts = 'augmenter_name="directory",augmenter_type="ldap",realm="ldaprealm"';
  assert.equal(value(m, `augmenter_attempts_total{${attempts},result="success"}`), 1);
  assert.equal(value(m, `augmenter_attempts_total{${attempts},result="error"}`), 1);
  const duration = 'augmenter_type="ldap",realm="ldaprealm"';
  assert.equal(value(m, `augmenter_duration_seconds_count{${duration}}`), 2);
  assert.equal(value(m, `augmenter_duration_seconds_bucket{${duration},le="2.5"}`), 1);
  assert.equal(value(m, `augmenter_duration_seconds_bucket{${duration},le="+Inf"}`), 2);
});

Deno.test("GatewayMetrics.httpStart()/httpEnd() count requests and track in-flight", () => {
  const m = boot();
  m.httpStart("GET");
  m.httpStart("GET");
  let out = lines(m);
  assert.ok(out.has('authotron_http_requests_in_flight{method="GET"} 2'));
  assert.ok(!m.render().includes("authotron_http_requests_total"));
  m.httpEnd("/", "GET", 200, 0.003);
  m.httpEnd("unmatched", "GET", 404, 0.001);
  m.httpStart("DELETE");
  m.httpEnd("/token/{token}", "DELETE", 204, 0.2);
  out = lines(m);
  assert.ok(out.has('authotron_http_requests_total{method="GET",route="/",status_code="200"} 1'));
  assert.ok(
    out.has('authotron_http_requests_total{method="GET",route="unmatched",status_code="404"} 1'),
  );
  assert.ok(
    out.has(
      'authotron_http_requests_total{method="DELETE",route="/token/{token}",status_code="204"} 1',
    ),
  );
  assert.ok(out.has('authotron_http_request_duration_seconds_count{method="GET",route="/"} 1'));
  assert.ok(out.has('authotron_http_requests_in_flight{method="GET"} 0'));
  assert.ok(out.has('authotron_http_requests_in_flight{method="DELETE"} 0'));
  assert.ok(
    [...out].some((l) =>
      l.startsWith(
        "# HELP authotron_http_requests_total HTTP requests by matched route pattern, method, and status code",
      )
    ),
  );
  assert.ok(
    [...out].some((l) =>
      l.startsWith(
        "# HELP authotron_http_request_duration_seconds HTTP request duration in seconds by matched route pattern and method",
      )
    ),
  );
  assert.ok(
    [...out].some((l) =>
      l.startsWith(
        "# HELP authotron_http_requests_in_flight HTTP requests currently being processed, by method",
      )
    ),
  );
});

Deno.test("GatewayMetrics.httpStart() maps non-standard methods to other", () => {
  const m = boot();
  for (const method of ["BREW", "get", "PROPFIND"]) {
    m.httpStart(method);
    m.httpEnd("unmatched", method, 405, 0);
  }
  const out = lines(m);
  assert.ok(
    out.has('authotron_http_requests_total{method="other",route="unmatched",status_code="405"} 3'),
  );
  assert.ok(out.has('authotron_http_requests_in_flight{method="other"} 0'));
  assert.ok(![...out].some((l) => /BREW|PROPFIND|method="get"/.test(l)));
});

Deno.test("GatewayMetrics.render() includes process metrics", () => {
  const samples = assertValidExposition(boot().render());
  const rss = samples.get("process_resident_memory_bytes");
  assert.ok(rss !== undefined && rss > 0);
  assert.ok((samples.get("process_heap_bytes") ?? 0) > 0);
  assert.ok((samples.get("process_cpu_seconds_total") ?? -1) >= 0);
  const start = samples.get("process_start_time_seconds") ?? 0;
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - 24 * 3600);
});

Deno.test("GatewayMetrics.counter()/gauge()/histogram() add families and run collect hooks", () => {
  const m = boot();
  const hits = m.counter("authotron_cache_hits_total", "Cache hits by cache.", ["cache"]);
  const size = m.gauge("authotron_cache_entries", "Cache entries by cache.", ["cache"]);
  const fetches = m.histogram("authotron_jwks_fetch_seconds", "JWKS fetch time.", ["provider"], [
    0.1,
    1,
  ]);
  let entries = 3;
  m.onCollect(() => size.set({ cache: "jwks" }, entries));
  hits.inc({ cache: "jwks" });
  fetches.observe({ provider: "keycloak" }, 0.5);
  assert.equal(m.counter("authotron_cache_hits_total", "Cache hits by cache.", ["cache"]), hits);
  let samples = assertValidExposition(m.render());
  assert.equal(samples.get('authotron_cache_hits_total{cache="jwks"}'), 1);
  assert.equal(samples.get('authotron_cache_entries{cache="jwks"}'), 3);
  assert.equal(samples.get('authotron_jwks_fetch_seconds_bucket{provider="keycloak",le="1"}'), 1);
  entries = 5;
  samples = assertValidExposition(m.render());
  assert.equal(samples.get('authotron_cache_entries{cache="jwks"}'), 5);
  assert.throws(() => m.gauge("auth_requests_total", "Clash.", ["result", "realm"]), TypeError);
});

Deno.test("GatewayMetrics escapes label values taken from config names", () => {
  const odd: ProviderLabels = { name: 'we"ird\\name', scheme: "Basic", realm: "r\nx" };
  const m = new GatewayMetrics({ version: "1", providers: [odd], augmenters: [] });
  const out = lines(m);
  assert.ok(
    out.has(
      'auth_provider_attempts_total{provider_name="we\\"ird\\\\name",provider_type="Basic",realm="r\\nx",result="error"} 0',
    ),
  );
});
