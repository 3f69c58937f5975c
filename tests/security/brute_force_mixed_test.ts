/**
 * #22 F1: a second credential in the same `Authorization` header must not hide
 * a wrong Basic password from the brute-force limits. A Bearer answered 200
 * (the attacker's own token) or 503 (a provider that cannot decide) used to
 * settle the throttle by the request's outcome: a 200 cleared the victim's
 * count, a 503 was never counted. Tested directly and through the example
 * NGINX config with real upstreams (a JWKS server, an identity service
 * answering 429).
 */
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { startNginx } from "../support/nginx.ts";
import { NGINX_EXAMPLE, renderNginxExample } from "../support/examples.ts";
import { systemTest } from "../support/system.ts";
import { signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";
import { faults, startIdentityUpstream } from "../support/identity_upstream.ts";

const TEST_BEARER = new URL("../fixtures/plugins/test_bearer.ts", import.meta.url).href;

function config(bruteForce: string, bearerMode: "accept" | "unavailable"): string {
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
  - module: ${TEST_BEARER}
    name: partner-idp
    realm: partners
    mode: ${bearerMode}
    token: attacker-token
    username: mallory
`);
}

async function get(url: string, authorization: string, realIp?: string) {
  const headers: Record<string, string> = { authorization };
  if (realIp) headers["x-real-ip"] = realIp;
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  return res;
}

function identity(res: Response): string | undefined {
  const jwt = res.headers.get("authorization")?.replace(/^Bearer /, "");
  return jwt === undefined ? undefined : String(decodeJwt(jwt).sub);
}

Deno.test("F1: a wrong Basic password counts even when the attacker's Bearer in the same header answers 200", async () => {
  await using gw = await startGateway(
    config("{ max_failures: 3, max_failures_per_address: 1000, block_s: 60 }", "accept"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 3; i++) {
    const res = await get(url, `${basicAuth(`alice:guess${i}`)}, Bearer attacker-token`);
    assert.equal(res.status, 200, "the attacker's own token still answers");
    assert.equal(identity(res), "partners-mallory");
  }
  const right = await get(url, `${basicAuth("alice:alice-password")}, Bearer attacker-token`);
  assert.equal(right.status, 401, "the pair is blocked: the right guess is not recognisable");
  assert.ok(Number(right.headers.get("retry-after")) > 0);
  const plain = await get(url, basicAuth("alice:alice-password"));
  assert.equal(plain.status, 401, "the pair (address, alice) is blocked");
  const elsewhere = await get(url, basicAuth("alice:alice-password"), "203.0.113.7");
  assert.equal(elsewhere.status, 200, "alice from another address is not affected");
  assert.equal(identity(elsewhere), "demo-alice");
});

Deno.test("F1: the per-address and per-username limits count mixed-header guesses too", async () => {
  await using gw = await startGateway(
    config("{ max_failures: 100, max_failures_per_address: 3, block_s: 60 }", "accept"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 3; i++) {
    const res = await get(url, `${basicAuth(`user${i}:x`)}, Bearer attacker-token`, "192.0.2.1");
    assert.equal(res.status, 200);
  }
  const blocked = await get(url, "Bearer attacker-token", "192.0.2.1");
  assert.equal(blocked.status, 401, "the spraying address is blocked");

  await using gw2 = await startGateway(
    config("{ max_failures: 100, max_failures_per_username: 3, block_s: 60 }", "accept"),
  );
  for (let i = 0; i < 3; i++) {
    const res = await get(
      `${gw2.url}/authenticate`,
      `${basicAuth(`alice:guess${i}`)}, Bearer attacker-token`,
      `192.0.2.${10 + i}`,
    );
    assert.equal(res.status, 200);
  }
  const victim = await get(
    `${gw2.url}/authenticate`,
    basicAuth("alice:alice-password"),
    "192.0.2.99",
  );
  assert.equal(victim.status, 401, "distributed guessing blocks the username");
});

Deno.test("F1: a wrong Basic password counts when a Bearer in the same header ends the request as 503", async () => {
  await using gw = await startGateway(
    config("{ max_failures: 3, max_failures_per_address: 1000, block_s: 60 }", "unavailable"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 3; i++) {
    const res = await get(url, `${basicAuth(`alice:guess${i}`)}, Bearer anything`);
    assert.equal(res.status, 503);
  }
  const right = await get(url, `${basicAuth("alice:alice-password")}, Bearer anything`);
  assert.equal(right.status, 401, "blocked, not let in");
  assert.ok(Number(right.headers.get("retry-after")) > 0);
  // An outage alone still never counts (T09): only the Basic rejections did.
  await using gw2 = await startGateway(
    config("{ max_failures_per_address: 2, block_s: 60 }", "unavailable"),
  );
  for (let i = 0; i < 4; i++) {
    assert.equal((await get(`${gw2.url}/authenticate`, "Bearer anything")).status, 503);
  }
  const ok = await get(`${gw2.url}/authenticate`, basicAuth("alice:alice-password"));
  assert.equal(ok.status, 200);
});

Deno.test("F1: a success clears only the failures of the credential that succeeded", async () => {
  await using gw = await startGateway(
    config("{ max_failures: 3, max_failures_per_address: 1000, block_s: 60 }", "accept"),
  );
  const url = `${gw.url}/authenticate`;
  for (let i = 0; i < 2; i++) assert.equal((await get(url, basicAuth("alice:x"))).status, 401);
  // The Bearer comes first and wins: the Basic credential is never tried, so neither counted nor cleared.
  const bearerFirst = await get(url, `Bearer attacker-token, ${basicAuth("alice:y")}`);
  assert.equal(bearerFirst.status, 200);
  assert.equal(identity(bearerFirst), "partners-mallory");
  assert.equal((await get(url, basicAuth("alice:z"))).status, 401);
  const right = await get(url, basicAuth("alice:alice-password"));
  assert.equal(right.status, 401, "three of alice's failures: blocked, none cleared by the Bearer");
  assert.ok(right.headers.has("retry-after"));

  // Alice's own success does clear her pair.
  await using gw2 = await startGateway(
    config("{ max_failures: 3, max_failures_per_address: 1000, block_s: 60 }", "accept"),
  );
  const url2 = `${gw2.url}/authenticate`;
  for (let i = 0; i < 2; i++) assert.equal((await get(url2, basicAuth("alice:x"))).status, 401);
  assert.equal((await get(url2, basicAuth("alice:alice-password"))).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await get(url2, basicAuth("alice:x"))).status, 401);
  assert.equal((await get(url2, basicAuth("alice:alice-password"))).status, 200);
});

/** The example NGINX config in front of `gatewayUrl`, with a backend recording what it receives. */
async function exampleNginx(gatewayUrl: string, seen: string[]) {
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const jwt = req.headers.get("authorization")?.replace(/^Bearer /, "");
    if (jwt) seen.push(String(decodeJwt(jwt).sub));
    return new Response("backend");
  });
  const template = await Deno.readTextFile(NGINX_EXAMPLE);
  const proxy = await startNginx(({ port }) =>
    renderNginxExample(template, {
      port,
      gateways: [gatewayUrl.replace("http://", "")],
      backend: `127.0.0.1:${backend.addr.port}`,
    })
  );
  return {
    proxy,
    async [Symbol.asyncDispose]() {
      await proxy.stop();
      await backend.shutdown();
    },
  };
}

function remoteConfig(certUri: string, apiUri: string): string {
  return testConfig(`
auth:
  timeout_in_ms: 3000
  decision_cache_ttl_ms: 0
  brute_force: { max_failures: 3, max_failures_per_address: 1000, block_s: 60 }
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: alice, password: alice-password, roles: [user] }
  - type: jwt
    name: partners
    realm: partners
    cert_uri: ${certUri}
  - type: ecmwf-api
    name: api
    realm: ecmwf
    uri: ${apiUri}
`);
}

systemTest(
  "F1 through examples/nginx/nginx.conf: a Bearer-200 or an anonymous 503 no longer hides Basic guesses",
  ["nginx"],
  async () => {
    const key = await signingKey("RS256");
    await using jwks = startJwksServer([key.jwk]);
    // The vendor's who-am-i is rate-limiting: every key it is asked about is "could not decide".
    await using api = startIdentityUpstream(() => faults.status(429));
    await using gw = await startGateway(remoteConfig(jwks.uri, api.url));
    const seen: string[] = [];
    await using site = await exampleNginx(gw.url, seen);
    const url = `${site.proxy.url}/x`;
    const attacker = await signToken(key, {
      sub: "mallory",
      scope: "read",
      exp: Math.floor(Date.now() / 1000) + 3600,
    });

    // Bearer-200 variant: the attacker's own valid JWT rides along with each guess.
    for (let i = 0; i < 3; i++) {
      const res = await get(url, `${basicAuth(`alice:guess${i}`)}, Bearer ${attacker}`);
      assert.equal(res.status, 200);
    }
    const right = await get(url, `${basicAuth("alice:alice-password")}, Bearer ${attacker}`);
    assert.equal(right.status, 401, "the right guess is refused while the pair is blocked");
    assert.ok(Number(right.headers.get("retry-after")) > 0, "Retry-After reaches the client");
    assert.ok(!seen.includes("demo-alice"), `the backend never saw alice: ${seen.join(",")}`);

    // Anonymous 503 variant, for another user from another client address: the
    // garbage Bearer makes the vendor answer 429 (503 through NGINX).
    await using gw2 = await startGateway(
      remoteConfig(jwks.uri, api.url).replace(
        "alice, password: alice-password",
        "bob, password: bob-password",
      ),
    );
    await using site2 = await exampleNginx(gw2.url, seen);
    const url2 = `${site2.proxy.url}/x`;
    const garbage = "0123456789abcdef0123456789abcdef";
    for (let i = 0; i < 3; i++) {
      const res = await get(url2, `${basicAuth(`bob:guess${i}`)}, Bearer ${garbage}`);
      assert.equal(res.status, 503, "each guess ends as the vendor's outage");
    }
    const bob = await get(url2, `${basicAuth("bob:bob-password")}, Bearer ${garbage}`);
    assert.equal(bob.status, 401, "blocked: the 503s were counted as Basic failures");
    assert.ok(!seen.includes("demo-bob"), `the backend never saw bob: ${seen.join(",")}`);
  },
);
