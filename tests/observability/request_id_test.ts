// Request ids (issue #18): honoured when sane, generated otherwise, echoed on
// the response and carried by every log line of the request.
import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { createLogger } from "../../lib/observability/log.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const CONFIG = testConfig(`providers:
  - type: plain
    name: local
    realm: demo
    users: [{ username: alice, password: alice-pw, roles: [user] }]
  - { type: jwt, name: api, realm: demo, cert_uri: "http://127.0.0.1:9/jwks" }
`);

type Event = { severityText: string; attributes: Record<string, unknown> };

Deno.test("request ids: a sane X-Request-Id is echoed, anything else is replaced by a UUID", async () => {
  await using gw = await startGateway(CONFIG);
  const alice = { authorization: basicAuth("alice:alice-pw") };
  const cases: [Record<string, string>, RegExp | string][] = [
    [{ ...alice, "x-request-id": "nginx-7f3a9c.01:2" }, "nginx-7f3a9c.01:2"],
    [{ ...alice }, UUID], // the second call is answered from the decision cache
    [{ ...alice, "x-request-id": "has space" }, UUID],
    [{ ...alice, "x-request-id": "x".repeat(129) }, UUID],
    [{ authorization: basicAuth("alice:wrong"), "x-request-id": "r-401" }, "r-401"],
  ];
  for (const [headers, expected] of cases) {
    const { res } = await gw.request("/authenticate", { headers });
    const id = res.headers.get("x-request-id") ?? "";
    if (typeof expected === "string") assert.equal(id, expected);
    else assert.match(id, expected);
  }
  const metrics = await fetch(`${gw.metricsUrl}/health`, { headers: { "x-request-id": "m-1" } });
  await metrics.body?.cancel();
  assert.equal(metrics.headers.get("x-request-id"), "m-1");
  const unknown = await gw.request("/nope", { headers: { "x-request-id": "r-404" } });
  assert.equal(unknown.res.status, 404);
  assert.equal(unknown.res.headers.get("x-request-id"), "r-404");
});

Deno.test("request ids: every log line of a request carries it; debug logs the per-provider outcome", async () => {
  await using gw = await startGateway(CONFIG);
  const before = gw.logs.length;
  await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:wrong-pw"), "x-request-id": "trace-me-1" },
  });
  const lines = gw.logs.slice(before).map((l) => JSON.parse(l) as Event);
  assert.ok(lines.length >= 3, `${lines.length} lines`);
  for (const line of lines) assert.equal(line.attributes.request_id, "trace-me-1");
  const outcome = lines.find((l) => l.attributes["event.name"] === "auth.request.outcome")!;
  assert.equal(outcome.severityText, "DEBUG");
  assert.equal(outcome.attributes.outcome, "all_failed");
  assert.equal(
    outcome.attributes.providers,
    "local=rejected (wrong password); api=skipped (scheme not in the Authorization header)",
  );
  assert.ok(!JSON.stringify(lines).includes("wrong-pw"));
  // Startup lines belong to no request.
  assert.equal(JSON.parse(gw.logs[0]).attributes.request_id, undefined);
});

Deno.test("the throttled failure summary says how many were suppressed and why", () => {
  const lines: string[] = [];
  let now = 0;
  const log = createLogger({
    level: "info",
    format: "json",
    serviceName: "t",
    serviceVersion: "t",
  }, { sink: (l) => lines.push(l), now: () => now });
  const fail = (reason: string) =>
    log.throttled("warn", "all_failed.Basic", "auth.provider.all_failed", "failed", {
      reason,
    }, reason);
  fail("credential not accepted");
  fail("credential not accepted");
  fail("no answer within 100 ms");
  fail("credential not accepted");
  now = 30_000;
  fail("credential not accepted");
  assert.equal(lines.length, 2);
  const summary = JSON.parse(lines[1]).attributes;
  assert.equal(summary.suppressed_count, 3);
  assert.equal(
    summary.suppressed_reasons,
    "credential not accepted=2,no answer within 100 ms=1",
  );
});

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).pathname;

Deno.test("request ids at info: every response echoes one, given or generated", async () => {
  await using gw = await startGateway(testConfig(
    `providers:
  - type: plain
    name: local
    realm: demo
    users: [{ username: alice, password: alice-pw }]
`,
    { logging: "{ level: info, format: json }" },
  ));
  const alice = { authorization: basicAuth("alice:alice-pw") };
  const given = await gw.request("/authenticate", { headers: { ...alice, "x-request-id": "n-1" } });
  assert.equal(given.res.headers.get("x-request-id"), "n-1");
  const first = await gw.request("/authenticate", { headers: alice });
  const second = await gw.request("/authenticate", { headers: alice }); // from the decision cache
  const denied = await gw.request("/authenticate", { headers: { "x-request-id": "bad id" } });
  const ids = [first, second, denied].map(({ res }) => res.headers.get("x-request-id") ?? "");
  assert.deepEqual([first.res.status, second.res.status, denied.res.status], [200, 200, 401]);
  for (const id of ids) assert.match(id, UUID);
  assert.equal(new Set(ids).size, 3, "each request gets its own id");
  const health = await fetch(`${gw.metricsUrl}/health`);
  await health.body?.cancel();
  assert.match(health.headers.get("x-request-id") ?? "", UUID);
});

Deno.test("request ids at info: the warn lines a failing request causes carry its id, a plugin's own included", async () => {
  await using gw = await startGateway(testConfig(
    `providers:
  - type: plain
    name: local
    realm: demo
    users: [{ username: alice, password: alice-pw }]
  - { module: ${FIXTURES}warning_basic.ts, name: warner, realm: demo }
`,
    { logging: "{ level: info, format: json }" },
  ));
  const before = gw.logs.length;
  const given = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:wrong-pw"), "x-request-id": "info-fail-1" },
  });
  assert.equal(given.res.status, 401);
  const generated = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:wrong-again") },
  });
  const generatedId = generated.res.headers.get("x-request-id") ?? "";
  assert.match(generatedId, UUID);
  const lines = gw.logs.slice(before).map((l) => JSON.parse(l) as Event);
  const named = (event: string) => lines.filter((l) => l.attributes["event.name"] === event);
  // The pipeline's throttled summary: the first of the window is written.
  const [summary] = named("auth.provider.all_failed");
  assert.equal(summary.severityText, "WARN");
  assert.equal(summary.attributes.request_id, "info-fail-1");
  // The plugin's own lines, once per request each, with its request's id: through the
  // call's ctx.log and through the logger the plugin was created with (as plugins do
  // for key-set refreshes and lookups).
  for (const event of ["fixture.warning_basic.refused", "fixture.warning_basic.created_logger"]) {
    const ids = named(event).map((l) => l.attributes.request_id);
    assert.deepEqual(ids, ["info-fail-1", generatedId], event);
  }
  for (const line of lines) {
    assert.ok(typeof line.attributes.request_id === "string", JSON.stringify(line));
  }
  assert.ok(!JSON.stringify(lines).includes("wrong-pw"));
});
