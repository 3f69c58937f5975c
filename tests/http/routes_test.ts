import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

const CONFIG = testConfig(`
providers:
  - { type: plain, name: local, realm: localrealm, users: [{ username: u, password: p }] }
  - { type: plain, name: second, realm: 'we"ird', users: [] }
augmenters:
  - type: plain_advanced
    name: adv
    realm: localrealm
    match: { username: [u] }
    augment: { roles: [r] }
`);

Deno.test("GET / serves the landing page with the version", async () => {
  await using gw = await startGateway(CONFIG);
  const { res, body } = await gw.request("/");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.ok(body.includes(VERSION));
  assert.ok(!body.includes("{{version}}"));
  assert.ok(body.includes('<img src="/static/logo.png" alt="Auth-O-Tron">'));
  assert.ok(body.includes("One service. Every auth method. Zero hassle."));
  // The same static body can be served twice.
  assert.equal((await gw.request("/")).body, body);
});

Deno.test("static logo and favicon have their content types", async () => {
  await using gw = await startGateway(CONFIG);
  const logo = await fetch(gw.url + "/static/logo.png");
  assert.equal(logo.headers.get("content-type"), "image/png");
  const bytes = new Uint8Array(await logo.arrayBuffer());
  assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47]);
  const icon = await gw.request("/favicon.ico");
  assert.equal(icon.res.status, 200);
  assert.equal(icon.res.headers.get("content-type"), "image/x-icon");
});

Deno.test("/health answers OK on both listeners; /metrics only on the metrics port", async () => {
  await using gw = await startGateway(CONFIG);
  for (const base of [gw.url, gw.metricsUrl!]) {
    const { res, body } = await gw.request(base + "/health");
    assert.equal(res.status, 200);
    assert.equal(body, "OK");
    assert.equal(res.headers.get("content-type"), null);
  }
  assert.equal((await gw.request("/metrics")).res.status, 404);
  const metrics = await gw.request(gw.metricsUrl + "/metrics");
  assert.equal(metrics.res.status, 200);
  assert.equal(metrics.res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("router: 404 empty, 405 with Allow, query ignored, no trailing-slash redirect", async () => {
  await using gw = await startGateway(CONFIG);
  const missing = await gw.request("/does-not-exist");
  assert.equal(missing.res.status, 404);
  assert.equal(missing.body, "");
  assert.equal(missing.res.headers.get("content-type"), null);
  assert.equal((await gw.request("/authenticate/")).res.status, 404);
  const post = await gw.request("/authenticate", { method: "POST" });
  assert.equal(post.res.status, 405);
  assert.equal(post.res.headers.get("allow"), "GET,HEAD");
  assert.equal((await gw.request("/token/abc")).res.status, 405);
  const query = await gw.request("/authenticate?redirect=/x", {
    headers: { authorization: basicAuth("u:p") },
  });
  assert.equal(query.res.status, 200);
});

Deno.test("/providers and /augmenters list entries in config order, no secrets", async () => {
  await using gw = await startGateway(CONFIG);
  assert.equal(
    (await gw.request("/providers")).body,
    '{"providers":[{"name":"local","type":"plain","realm":"localrealm"},' +
      '{"name":"second","type":"plain","realm":"we\\"ird"}]}',
  );
  assert.equal(
    (await gw.request("/augmenters")).body,
    '{"augmenters":[{"name":"adv","type":"plain_advanced","realm":"localrealm"}]}',
  );
});

Deno.test("401 challenge escapes a quote in a realm", async () => {
  await using gw = await startGateway(CONFIG);
  const { res } = await gw.request("/authenticate");
  assert.equal(
    res.headers.get("www-authenticate"),
    'Basic realm="localrealm", Basic realm="we\\"ird"',
  );
});

Deno.test("no providers configured: challenge is just Bearer", async () => {
  await using gw = await startGateway(testConfig("providers: []"));
  const { res } = await gw.request("/authenticate", { headers: { authorization: "Basic eDp5" } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
});

Deno.test("token routes with the store disabled: 401 first, 503 after authentication", async () => {
  await using gw = await startGateway(CONFIG);
  assert.equal((await gw.request("/token")).res.status, 401);
  const auth = { authorization: basicAuth("u:p") };
  for (const [path, method] of [["/token", "GET"], ["/tokens", "GET"], ["/token/x", "DELETE"]]) {
    const { res, body } = await gw.request(path!, { method, headers: auth });
    assert.equal(res.status, 503, path);
    assert.equal(body, '{"error":"Token store is disabled"}');
  }
});

Deno.test("metrics disabled: nothing on a metrics port, /health still on the app port", async () => {
  await using gw = await startGateway(
    CONFIG.replace("metrics: { enabled: true, port: 0 }", "metrics: { enabled: false }"),
  );
  assert.equal(gw.metricsUrl, undefined);
  assert.equal((await gw.request("/health")).body, "OK");
});
