/**
 * Resource bounds (T08, RL15, D07, N05/N10 facts): every cache and throttle
 * table of a real gateway stays within its bound under a flood of unique
 * garbage, and what Deno itself does with oversized headers (the ingress
 * must enforce the rest: docs/security.md, "What the ingress must provide").
 */
import assert from "node:assert/strict";
import { rawStatusLine } from "../support/raw_http.ts";
import { MAX_THROTTLE_KEYS } from "../../lib/auth/throttle.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

Deno.test("a gateway keeps every cache and throttle table bounded under 20 000 unique garbage credentials (RL15)", async () => {
  let upstreamCalls = 0;
  await using upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    upstreamCalls++;
    return new Response('{"error":"invalid"}', { status: 403 });
  });
  await using gw = await startGateway(testConfig(`
auth: { brute_force: { max_failures_per_address: 1000000, max_failures: 1000000, max_failures_per_username: 0 } }
providers:
  - type: plain
    name: people
    realm: demo
    users: [{ username: alice, password: alice-password }]
  - type: ecmwf-api
    name: ecmwf
    realm: ecmwf
    uri: http://127.0.0.1:${upstream.addr.port}/v1
    cache_max_entries: 500
    # The flood must reach the provider's caches: no bound on its upstream requests here
    # (tests/security/upstream_limits_test.ts covers the bounds).
    upstream_max_concurrent: 0
    upstream_max_per_second: 0
`));
  const handler = gw.gateway.appHandler;
  const info = (i: number): Deno.ServeHandlerInfo => ({
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 + (i % 20000) },
    completed: Promise.resolve(),
  });
  const total = 20_000;
  for (let i = 0; i < total; i += 50) {
    await Promise.all(Array.from({ length: 50 }, async (_, j) => {
      const n = i + j;
      const header = n % 4 === 0
        ? `Bearer garbage-token-${n}-${crypto.randomUUID()}`
        : basicAuth(`user-${n}-${"x".repeat(n % 200)}:pw`);
      const realIp = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const res = await handler(
        new Request("http://gw/authenticate", {
          headers: {
            authorization: header,
            "x-real-ip": realIp,
            ...(n % 4 === 1 ? { "x-auth-realm": `realm-${n}` } : {}),
          },
        }),
        info(n),
      );
      await res.body?.cancel();
      assert.equal(res.status, 401);
    }));
  }
  const sizes = gw.gateway.throttle.sizes;
  assert.ok(sizes.addresses <= MAX_THROTTLE_KEYS && sizes.addresses >= MAX_THROTTLE_KEYS - 1);
  assert.ok(sizes.pairs <= MAX_THROTTLE_KEYS);
  assert.equal(sizes.usernames, 0, "max_failures_per_username: 0 keeps no usernames");
  const status = JSON.parse((await gw.request(`${gw.metricsUrl}/status`)).body);
  for (const cache of status.caches) {
    assert.ok(cache.entries <= 500, `${cache.name}: ${cache.entries} entries`);
  }
  assert.ok(upstreamCalls > 500, "the flood reached the remote provider");
  const metrics = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
  assert.ok(!/realm-\d+|user-\d+|garbage-token/.test(metrics), "no client value became a label");
  const ok = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:alice-password") },
  });
  assert.equal(ok.res.status, 200, "the gateway still serves after the flood");
});

Deno.test("Deno.serve refuses headers of 64 KiB or more and a 16 KiB Authorization is a plain 401 (D07)", async () => {
  await using gw = await startGateway(testConfig(`
providers:
  - { type: plain, name: people, realm: demo, users: [{ username: a, password: b }] }
`));
  const port = Number(new URL(gw.url).port);
  const big = "a".repeat(70 * 1024);
  const huge = await rawStatusLine(
    port,
    `GET /authenticate HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(huge, /^HTTP\/1\.1 (400|431)/, huge);
  const many = Array.from({ length: 100 }, (_, i) => `X-H${i}: ${"v".repeat(100)}`).join("\r\n");
  const hundred = await rawStatusLine(
    port,
    `GET /authenticate HTTP/1.1\r\nHost: x\r\n${many}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(hundred, /^HTTP\/1\.1 401/, "100 small headers are an ordinary request");
  const longAuth = await gw.request("/authenticate", {
    headers: { authorization: "Basic " + "A".repeat(20 * 1024) },
  });
  assert.equal(longAuth.res.status, 401, "an over-long Authorization is refused before parsing");
});
