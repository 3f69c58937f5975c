/**
 * NGINX end to end: Debian's nginx runs examples/nginx/nginx.conf (only the
 * ports are substituted) in front of a real gateway and a backend that
 * trusts nothing but the gateway's JWT.
 */
import assert from "node:assert/strict";
import { rawStatusLine } from "../support/raw_http.ts";
import { SignJWT } from "jose";
import { loadConfig } from "../../lib/config/load.ts";
import { basicAuth } from "../support/gateway.ts";
import { startNginx } from "../support/nginx.ts";
import { systemTest } from "../support/system.ts";
import {
  CHALLENGE,
  JWT_ISSUER,
  JWT_SECRET,
  ROBOT_KEY,
  startIngressGateway,
} from "./ingress_gateway.ts";
import { type BackendEcho, startJwtBackend } from "./jwt_backend.ts";

const EXAMPLE = new URL("../../examples/nginx/nginx.conf", import.meta.url);

/** The example config with its placeholders filled in. */
function renderExample(
  template: string,
  values: { port: number; gateway: string; backend: string },
): string {
  const text = template
    .replaceAll("@NGINX_PORT@", String(values.port))
    .replaceAll("@GATEWAY@", values.gateway)
    .replaceAll("@BACKEND@", values.backend);
  assert.doesNotMatch(text, /@[A-Z_]+@/, "every placeholder is substituted");
  return text;
}

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
  const template = await Deno.readTextFile(EXAMPLE);
  await using gw = await startIngressGateway();
  await using backend = startJwtBackend(JWT_SECRET, JWT_ISSUER);
  const gateway = gw.url.replace("http://", "");
  // The file is used as is; the harness only adds `daemon off;` on the command line.
  await using proxy = await startNginx(({ port }) =>
    renderExample(template, { port, gateway, backend: backend.hostPort })
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

  await t.step("a gateway that is down fails closed with 500", async () => {
    await gw.running.shutdown();
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
  const text = await Deno.readTextFile(EXAMPLE);
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
});
