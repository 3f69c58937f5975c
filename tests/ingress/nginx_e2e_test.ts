/**
 * NGINX end to end: Debian's nginx runs examples/nginx/nginx.conf (only the
 * ports are substituted) in front of two real gateway replicas and a backend
 * that trusts nothing but the gateway's JWT. The replicas sit behind TCP
 * proxies that count the connections NGINX opens to them (connection reuse);
 * a second test restarts two gateway processes one after the other under load.
 */
import assert from "node:assert/strict";
import { rawStatusLine } from "../support/raw_http.ts";
import { SignJWT } from "jose";
import { loadConfig } from "../../lib/config/load.ts";
import { basicAuth } from "../support/gateway.ts";
import { startNginx } from "../support/nginx.ts";
import { NGINX_EXAMPLE, renderNginxExample } from "../support/examples.ts";
import { freePort, sleep, systemTest, tempDir } from "../support/system.ts";
import {
  CHALLENGE,
  ingressConfigFile,
  JWT_ISSUER,
  JWT_SECRET,
  ROBOT_KEY,
  startCountedReplicas,
} from "./ingress_gateway.ts";
import { startGatewayProcess } from "./gateway_process.ts";
import { type BackendEcho, startJwtBackend } from "./jwt_backend.ts";

async function call(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ res: Response; body: string }> {
  const res = await fetch(url, { headers });
  return { res, body: await res.text() };
}

async function forgedJwt(): Promise<string> {
  return await new SignJWT({ username: "admin", realm: "demo", roles: ["admin"] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("authotron-test")
    .setSubject("demo-admin")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode("not-the-gateway-secret-but-32-bytes!"));
}

systemTest("examples/nginx/nginx.conf protects a backend end to end", ["nginx"], async (t) => {
  const template = await Deno.readTextFile(NGINX_EXAMPLE);
  // Each replica behind a TCP proxy that counts the connections the ingress opens to it.
  await using replicas = await startCountedReplicas();
  const [gw, gw2] = replicas.gateways;
  await using backend = startJwtBackend(JWT_SECRET, JWT_ISSUER);
  const connectionsToGateways = () => replicas.connections();
  // The file is used as is; the harness only adds `daemon off;` on the command line.
  await using proxy = await startNginx(({ port }) =>
    renderNginxExample(template, {
      port,
      gateways: replicas.targets,
      backend: backend.hostPort,
    })
  );
  let accepted = 0;

  await t.step("a Basic caller gets the backend's answer as the gateway's user", async () => {
    const { res, body } = await call(`${proxy.url}/hello`, {
      authorization: basicAuth("alice:alice-password"),
    });
    assert.equal(res.status, 200, body);
    accepted++;
    const echo: BackendEcho = JSON.parse(body);
    assert.deepEqual(
      [echo.username, echo.realm, echo.roles, echo.path],
      ["alice", "demo", ["user"], "/hello"],
    );
  });

  await t.step("a Bearer caller gets the backend's answer in a realm-bound location", async () => {
    const { res, body } = await call(`${proxy.url}/robots/deploy`, {
      authorization: `Bearer ${ROBOT_KEY}`,
    });
    assert.equal(res.status, 200, body);
    accepted++;
    const echo: BackendEcho = JSON.parse(body);
    assert.deepEqual(
      [echo.username, echo.realm, echo.roles],
      ["ci-robot", "robots", ["deployer"]],
    );
  });

  await t.step("bad or missing credentials get 401 with the gateway's challenge", async () => {
    for (
      const [path, headers] of [
        ["/hello", { authorization: basicAuth("alice:wrong") }],
        ["/hello", {}],
        ["/hello", { authorization: "Basic %%%not-base64" }],
        ["/robots/deploy", { authorization: "Bearer not-a-known-key" }],
        // The location's realm is robots: alice's realm is not consulted there.
        ["/robots/deploy", { authorization: basicAuth("alice:alice-password") }],
      ] as const
    ) {
      const { res, body } = await call(proxy.url + path, headers);
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}: ${body}`);
      assert.equal(res.headers.get("www-authenticate"), CHALLENGE);
      assert.equal(body, '{"error": "Unauthorized access"}');
    }
  });

  await t.step("client identity headers and forged JWTs impersonate nobody", async () => {
    const forged = {
      authorization: `Bearer ${await forgedJwt()}`,
      "x-auth-username": "admin",
      "x-auth-realm": "demo",
      "x-auth-roles": "admin",
    };
    // A realm header from the client cannot widen the location's realm either.
    const denied = await call(`${proxy.url}/robots/deploy`, forged);
    assert.equal(denied.res.status, 401, denied.body);
    // With valid credentials, the backend sees the gateway's identity and no client X-Auth-*.
    const { res, body } = await call(`${proxy.url}/hello`, {
      ...forged,
      authorization: basicAuth("alice:alice-password"),
      "x-auth-user": "admin",
      "x-auth-groups": "admins",
    });
    assert.equal(res.status, 200, body);
    accepted++;
    const echo: BackendEcho = JSON.parse(body);
    assert.equal(echo.username, "alice");
    assert.deepEqual(echo.identityHeaders, {});
  });

  await t.step("an identity service outage reaches the client as 503 + Retry-After", async () => {
    // Nobody knows this key and the partners' provider cannot be reached: 503, not 401.
    const { res, body } = await call(`${proxy.url}/hello`, {
      authorization: "Bearer some-partner-token",
    });
    assert.equal(res.status, 503, body);
    assert.equal(res.headers.get("retry-after"), "5");
    assert.match(body, /temporarily unavailable/);
  });

  await t.step(
    "the auth location is internal and two Authorization headers are refused",
    async () => {
      const direct = await call(`${proxy.url}/_auth`, {
        authorization: basicAuth("alice:alice-password"),
      });
      assert.equal(direct.res.status, 404);
      const status = await rawStatusLine(
        proxy.port,
        "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
          `Authorization: ${basicAuth("alice:alice-password")}\r\n` +
          "Authorization: Bearer forged\r\n\r\n",
      );
      assert.match(status, /^HTTP\/1\.1 400 /);
    },
  );

  await t.step("NGINX reuses its connections to the gateways for 200, 401 and 503", async () => {
    const before = connectionsToGateways();
    const requests = 500;
    const ok = { authorization: basicAuth("alice:alice-password"), status: 200 };
    const unavailable = { authorization: "Bearer some-partner-token", status: 503 };
    // One request in six fails (~83 in all): below auth.brute_force's 100 failures per
    // address even if every one of them reaches the same replica.
    const kinds = [ok, { authorization: basicAuth("nobody:wrong"), status: 401 }, unavailable, ok];
    kinds.push(ok, unavailable);
    let next = 0;
    const statuses: Record<number, number> = {};
    // Five clients at a time, each on its own keep-alive connection to NGINX.
    await Promise.all(Array.from({ length: 5 }, async () => {
      while (next < requests) {
        const kind = kinds[next++ % kinds.length]!;
        const { res } = await call(`${proxy.url}/hello`, { authorization: kind.authorization });
        assert.equal(res.status, kind.status);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) accepted++;
      }
    }));
    assert.deepEqual(statuses, { 200: 250, 401: 84, 503: 166 });
    const opened = connectionsToGateways() - before;
    // At most one connection per client in flight, per NGINX worker and replica; a GET
    // subrequest whose answer has a body opens one per request (~500).
    assert.ok(opened <= 25, `${opened} connections for ${requests} requests`);
  });

  await t.step("a gateway that is down fails closed with 500", async () => {
    await gw.running.shutdown();
    await gw2.running.shutdown();
    const { res } = await call(`${proxy.url}/hello`, {
      authorization: basicAuth("alice:alice-password"),
    });
    assert.equal(res.status, 500);
  });

  await t.step("the backend never saw a request without a valid gateway JWT", () => {
    assert.equal(backend.rejected(), 0);
    assert.equal(backend.received(), accepted);
  });
});

Deno.test("examples/nginx/nginx.conf waits longer for /_auth than the gateway's own deadline", async () => {
  const text = await Deno.readTextFile(NGINX_EXAMPLE);
  const auth = text.match(/location = \/_auth \{([^}]*)\}/)?.[1] ?? "";
  const seconds = (directive: string) =>
    Number(auth.match(new RegExp(`${directive}\\s+(\\d+)s;`))?.[1] ?? NaN);
  const config = await loadConfig(
    new URL("../../config.example.yaml", import.meta.url).pathname,
    {},
  );
  const gatewayDeadlineMs = config.auth.timeoutInMs + config.auth.augmenterTimeoutInMs;
  assert.ok(seconds("proxy_read_timeout") * 1000 > gatewayDeadlineMs, auth);
  assert.ok(seconds("proxy_connect_timeout") > 0);
  assert.match(auth, /proxy_pass http:\/\/authotron\/authenticate;/);
  assert.match(auth, /proxy_pass_request_body off;/);
  assert.match(auth, /proxy_set_header Content-Length "";/);
  assert.match(auth, /proxy_cache off;/);
  assert.match(auth, /proxy_method HEAD;/);
});

systemTest(
  "examples/nginx/nginx.conf: a rolling restart of two gateway processes fails no request",
  ["nginx"],
  async () => {
    const template = await Deno.readTextFile(NGINX_EXAMPLE);
    const dir = await tempDir("rolling");
    await using backend = startJwtBackend(JWT_SECRET, JWT_ISSUER);
    const ports = [freePort(), freePort()];
    const configs = ports.map((_, i) => `${dir}/replica${i}.yaml`);
    for (const [i, port] of ports.entries()) {
      await Deno.writeTextFile(configs[i]!, await ingressConfigFile(port));
    }
    const start = (i: number) =>
      startGatewayProcess(configs[i]!, ports[i]!, `${dir}/replica${i}.log`);
    const replicas = [await start(0), await start(1)];
    try {
      await using proxy = await startNginx(({ port }) =>
        renderNginxExample(template, {
          port,
          gateways: [replicas[0]!.hostPort, replicas[1]!.hostPort],
          backend: backend.hostPort,
        })
      );
      let running = true;
      const failures: string[] = [];
      let served = 0;
      const clients = Array.from({ length: 8 }, async () => {
        while (running) {
          const { res, body } = await call(`${proxy.url}/hello`, {
            authorization: basicAuth("alice:alice-password"),
          });
          if (res.status === 200) served++;
          else failures.push(`${res.status} ${body}`);
        }
      });
      await sleep(1000);
      // One replica at a time: SIGTERM, start it again, wait until it is ready, then
      // fail_timeout (5 s) more so that NGINX has taken it back before the next one stops.
      for (const i of [0, 1]) {
        await replicas[i]!.proc.stop("SIGTERM");
        replicas[i] = await start(i);
        await sleep(6000);
      }
      running = false;
      await Promise.all(clients);
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${served} failed`);
      assert.ok(served > 100, `only ${served} requests served`);
      assert.equal(backend.rejected(), 0);
    } finally {
      for (const replica of replicas) await replica.proc.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
);
