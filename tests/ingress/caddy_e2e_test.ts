/**
 * Caddy end to end: Debian's caddy runs examples/caddy/Caddyfile (only the
 * ports are substituted) with `forward_auth` in front of two real gateway
 * replicas and a backend that trusts nothing but the gateway's JWT. The
 * replicas sit behind TCP proxies that count the connections Caddy opens.
 */
import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { startCaddy } from "../support/caddy.ts";
import { CADDY_EXAMPLE, renderCaddyExample } from "../support/examples.ts";
import { systemTest } from "../support/system.ts";
import {
  CHALLENGE,
  JWT_ISSUER,
  JWT_SECRET,
  ROBOT_KEY,
  startCountedReplicas,
} from "./ingress_gateway.ts";
import { type BackendEcho, startJwtBackend } from "./jwt_backend.ts";

async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ res: Response; body: string }> {
  const res = await fetch(url, init);
  return { res, body: await res.text() };
}

systemTest("examples/caddy/Caddyfile protects a backend end to end", ["caddy"], async (t) => {
  const template = await Deno.readTextFile(CADDY_EXAMPLE);
  // Each replica behind a TCP proxy that counts the connections the ingress opens to it.
  await using replicas = await startCountedReplicas();
  const [gw, gw2] = replicas.gateways;
  await using backend = startJwtBackend(JWT_SECRET, JWT_ISSUER);
  const connectionsToGateways = () => replicas.connections();
  await using proxy = await startCaddy(({ port }) =>
    renderCaddyExample(template, {
      port,
      gateways: replicas.targets,
      backend: backend.hostPort,
    })
  );
  let accepted = 0;

  await t.step("a Basic caller reaches the backend with the gateway's JWT only", async () => {
    const { res, body } = await call(`${proxy.url}/hello`, {
      headers: {
        authorization: basicAuth("alice:alice-password"),
        "x-auth-username": "admin",
        "x-auth-realm": "robots",
        "x-auth-roles": "admin",
        "x-auth-user": "admin",
        "x-auth-groups": "admins",
      },
    });
    assert.equal(res.status, 200, body);
    accepted++;
    const echo: BackendEcho = JSON.parse(body);
    assert.deepEqual(
      [echo.username, echo.realm, echo.roles, echo.path],
      ["alice", "demo", ["user"], "/hello"],
    );
    // Client identity headers are stripped: the gateway did not limit alice to the robots
    // realm, and none reach the backend.
    assert.deepEqual(echo.identityHeaders, {});
  });

  await t.step(
    "a request body still reaches the backend, the gateway never reads one",
    async () => {
      const { res, body } = await call(`${proxy.url}/upload`, {
        method: "POST",
        headers: { authorization: basicAuth("alice:alice-password") },
        body: "x".repeat(100_000),
      });
      assert.equal(res.status, 200, body);
      accepted++;
    },
  );

  await t.step("a Bearer caller gets the backend's answer in a realm-bound route", async () => {
    const { res, body } = await call(`${proxy.url}/robots/deploy`, {
      headers: { authorization: `Bearer ${ROBOT_KEY}` },
    });
    assert.equal(res.status, 200, body);
    accepted++;
    const echo: BackendEcho = JSON.parse(body);
    assert.deepEqual([echo.username, echo.realm], ["ci-robot", "robots"]);
  });

  await t.step("bad or missing credentials get 401 with the gateway's challenge", async () => {
    for (
      const [path, headers] of [
        ["/hello", { authorization: basicAuth("alice:wrong") }],
        ["/hello", {}],
        ["/hello", { authorization: "Basic %%%not-base64" }],
        ["/robots/deploy", { authorization: "Bearer not-a-known-key" }],
        // The route's realm is robots: alice's realm is not consulted there.
        ["/robots/deploy", { authorization: basicAuth("alice:alice-password") }],
      ] as const
    ) {
      const { res, body } = await call(proxy.url + path, { headers });
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}: ${body}`);
      assert.equal(res.headers.get("www-authenticate"), CHALLENGE);
      assert.equal(res.headers.get("retry-after"), null);
      assert.equal(body, '{"error": "Unauthorized access"}');
    }
  });

  await t.step("an identity service outage reaches the client as 503 + Retry-After", async () => {
    const { res, body } = await call(`${proxy.url}/hello`, {
      headers: { authorization: "Bearer some-partner-token" },
    });
    assert.equal(res.status, 503, body);
    assert.equal(res.headers.get("retry-after"), "5");
    assert.equal(body, '{"error": "Authentication service temporarily unavailable"}');
  });

  await t.step("Caddy reuses its connections to the gateways for 200, 401 and 503", async () => {
    const before = connectionsToGateways();
    const ok = { authorization: basicAuth("alice:alice-password"), status: 200 };
    const unavailable = { authorization: "Bearer some-partner-token", status: 503 };
    // One request in six fails (~83 in all): below auth.brute_force's 100 failures per
    // address even if every one of them reaches the same replica.
    const kinds = [ok, { authorization: basicAuth("nobody:wrong"), status: 401 }, unavailable, ok];
    kinds.push(ok, unavailable);
    let next = 0;
    await Promise.all(Array.from({ length: 5 }, async () => {
      while (next < 500) {
        const kind = kinds[next++ % kinds.length]!;
        const { res } = await call(`${proxy.url}/hello`, {
          headers: { authorization: kind.authorization },
        });
        assert.equal(res.status, kind.status);
        if (res.status === 200) accepted++;
      }
    }));
    const opened = connectionsToGateways() - before;
    // At most one per client in flight and replica; a GET whose answer body Caddy leaves
    // unread opens one per request (~500).
    assert.ok(opened <= 10, `${opened} connections for 500 requests`);
  });

  await t.step("gateways that are down fail closed", async () => {
    await gw.running.shutdown();
    await gw2.running.shutdown();
    const { res } = await call(`${proxy.url}/hello`, {
      headers: { authorization: basicAuth("alice:alice-password") },
    });
    assert.equal(res.status, 502);
  });

  await t.step("the backend never saw a request without a valid gateway JWT", () => {
    assert.equal(backend.rejected(), 0);
    assert.equal(backend.received(), accepted);
  });
});
