/**
 * Brute-force limits through a real gateway (T04, T06, T09) and through the
 * example NGINX config: a throttled caller gets the normal 401 with the
 * challenge plus `Retry-After`, other callers are not slowed, outages are
 * not counted, and the block lifts after `block_s`.
 */
import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { startNginx } from "../support/nginx.ts";
import { NGINX_EXAMPLE, renderNginxExample } from "../support/examples.ts";
import { systemTest } from "../support/system.ts";

const TEST_BEARER = new URL("../fixtures/plugins/test_bearer.ts", import.meta.url).href;

const CHALLENGE = 'Basic realm="demo", Bearer realm="partners"';

function config(bruteForce: string): string {
  return testConfig(`
auth:
  timeout_in_ms: 3000
  brute_force: ${bruteForce}
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: alice, password: alice-password, roles: [user] }
      - { username: bob, password: bob-password, roles: [user] }
  - module: ${TEST_BEARER}
    name: partner-idp
    realm: partners
    mode: unavailable
`);
}

function get(url: string, authorization?: string, realIp?: string) {
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  if (realIp) headers["x-real-ip"] = realIp;
  return fetch(url, { headers }).then(async (res) => ({ res, body: await res.text() }));
}

Deno.test("/authenticate answers a throttled caller 401 with the challenge and Retry-After, and lifts it after block_s", async () => {
  await using gw = await startGateway(config("{ max_failures: 3, window_s: 60, block_s: 2 }"));
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 3; i++) {
    const { res } = await get(url, basicAuth("alice:guess-9z7"));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("retry-after"), null, "an ordinary failure has no Retry-After");
  }
  const throttled = await get(url, basicAuth("alice:alice-password"));
  assert.equal(throttled.res.status, 401, "even the right password waits out the block");
  assert.equal(throttled.res.headers.get("www-authenticate"), CHALLENGE);
  assert.ok(["1", "2"].includes(throttled.res.headers.get("retry-after")!));
  assert.equal(throttled.body, '{"error": "Unauthorized access"}', "same body as any 401");
  assert.equal(throttled.res.headers.get("authorization"), null);

  const bob = await get(url, basicAuth("bob:bob-password"));
  assert.equal(bob.res.status, 200, "another user from the same address is not slowed");
  const elsewhere = await get(url, basicAuth("alice:alice-password"), "203.0.113.5");
  assert.equal(elsewhere.res.status, 200, "alice from another address (X-Real-IP via loopback)");

  const metrics = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  assert.match(metrics, /authotron_auth_throttled_total\{reason="pair"\} 1\n/);
  assert.ok(gw.logs.some((l) => l.includes('"auth.request.throttled"')), "logged");
  // (The debug outcome line may say "wrong password": the password itself must not appear.)
  assert.ok(!gw.logs.some((l) => l.includes("alice-password") || l.includes("guess-9z7")));

  await new Promise((r) => setTimeout(r, 2_100));
  const after = await get(url, basicAuth("alice:alice-password"));
  assert.equal(after.res.status, 200, "the block lifted after block_s");
});

Deno.test("/authenticate does not count upstream outages (503) as failed attempts (T09)", async () => {
  await using gw = await startGateway(
    config("{ max_failures: 2, max_failures_per_address: 2, block_s: 60 }"),
  );
  for (let i = 0; i < 5; i++) {
    const { res } = await get(`${gw.url}/authenticate`, "Bearer any-token");
    assert.equal(res.status, 503);
  }
  const ok = await get(`${gw.url}/authenticate`, basicAuth("alice:alice-password"));
  assert.equal(ok.res.status, 200);
  assert.deepEqual(gw.gateway.throttle.sizes, { pairs: 0, addresses: 0, usernames: 0 });
});

Deno.test("/authenticate blocks a spraying or garbage-flooding address, not the others (T05, U02)", async () => {
  await using gw = await startGateway(
    config("{ max_failures_per_address: 5, block_s: 60, trusted_networks: [198.51.100.0/24] }"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 5; i++) await get(url, basicAuth(`user${i}:x`), "203.0.113.9");
  const sprayer = await get(url, basicAuth("alice:alice-password"), "203.0.113.9");
  assert.equal(sprayer.res.status, 401);
  assert.ok(sprayer.res.headers.has("retry-after"));
  for (let i = 0; i < 5; i++) await get(url, "Basic %%%", "203.0.113.10");
  assert.equal((await get(url, basicAuth("bob:bob-password"), "203.0.113.10")).res.status, 401);
  assert.equal((await get(url, basicAuth("bob:bob-password"), "203.0.113.11")).res.status, 200);
  for (let i = 0; i < 20; i++) await get(url, basicAuth(`user${i}:x`), "198.51.100.7");
  const trusted = await get(url, basicAuth("bob:bob-password"), "198.51.100.7");
  assert.equal(trusted.res.status, 200, "trusted networks are never throttled");
  // The same limits cover /whoami, which runs the same pipeline.
  const whoami = await get(`${gw.url}/whoami`, basicAuth("bob:bob-password"), "203.0.113.9");
  assert.equal(whoami.res.status, 401);
});

Deno.test("/authenticate ignores X-Real-IP from a peer that is not a trusted proxy (T06)", async () => {
  await using gw = await startGateway(
    config("{ max_failures_per_address: 3, block_s: 60, trusted_proxies: [] }"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 3; i++) await get(url, basicAuth(`u${i}:x`), `192.0.2.${i}`);
  const rotated = await get(url, basicAuth("bob:bob-password"), "192.0.2.99");
  assert.equal(rotated.res.status, 401, "rotating X-Real-IP does not escape the limit");
});

systemTest("examples/nginx/nginx.conf relays a throttled 401 with the challenge and Retry-After", [
  "nginx",
], async () => {
  await using gw = await startGateway(config("{ max_failures: 2, block_s: 30 }"));
  await using backend = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("backend"),
  );
  const template = await Deno.readTextFile(NGINX_EXAMPLE);
  await using proxy = await startNginx(({ port }) =>
    renderNginxExample(template, {
      port,
      gateways: [gw.url.replace("http://", "")],
      backend: `127.0.0.1:${backend.addr.port}`,
    })
  );
  for (let i = 0; i < 2; i++) {
    const { res } = await get(`${proxy.url}/x`, basicAuth("alice:wrong"));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("retry-after"), null);
  }
  const { res, body } = await get(`${proxy.url}/x`, basicAuth("alice:alice-password"));
  assert.equal(res.status, 401, body);
  assert.equal(res.headers.get("www-authenticate"), CHALLENGE);
  assert.ok(Number(res.headers.get("retry-after")) > 0, "Retry-After reaches the client");
  const bob = await get(`${proxy.url}/x`, basicAuth("bob:bob-password"));
  assert.equal(bob.res.status, 200, "another user is not throttled");
  assert.equal(bob.body, "backend");
  // N08: two Authorization headers never reach the gateway.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    const two = `GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth("bob:bob-password")}` +
      `\r\nAuthorization: ${basicAuth("alice:wrong")}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(two));
    const buffer = new Uint8Array(1024);
    const n = await conn.read(buffer);
    const line = new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0]!;
    assert.match(line, /^HTTP\/1\.1 400/, line);
  } finally {
    conn.close();
  }
});
