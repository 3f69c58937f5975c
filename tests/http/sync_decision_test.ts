import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { failureResponse } from "../../lib/http/app_routes.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).href;

function plain(name: string): string {
  return `  - { type: plain, name: ${name}, realm: r, users: [{ username: alice, password: pw }] }\n`;
}

const UNCACHED = "auth: { decision_cache_ttl_ms: 0 }\nproviders:\n";

Deno.test("pipeline: one synchronous provider decides without a promise turn", async () => {
  await using gw = await startGateway(testConfig(UNCACHED + plain("local")));
  const accepted = gw.gateway.pipeline.authenticate(basicAuth("alice:pw"), undefined, "127.0.0.1");
  assert.ok(!(accepted instanceof Promise), "an accepted credential is decided synchronously");
  assert.equal(accepted.ok && accepted.user.username, "alice");
  const rejected = gw.gateway.pipeline.authenticate(basicAuth("alice:no"), undefined, "127.0.0.1");
  assert.ok(!(rejected instanceof Promise), "a rejected credential is decided synchronously");
  assert.deepEqual(rejected, { ok: false, reason: "all_failed" });
  // Same answers over HTTP, and the /explain recorder still sees the provider's part.
  const res = (await gw.request("/authenticate", {
    headers: { authorization: basicAuth("alice:pw") },
  })).res;
  assert.equal(res.status, 200);
  assert.equal(decodeJwt(res.headers.get("authorization")!.slice(7)).username, "alice");
  assert.ok(
    gw.logs.some((l) => l.includes("auth.request.outcome") && l.includes("local=accepted")),
  );
});

Deno.test("pipeline: two providers still race in promise turns, and both are asked", async () => {
  const bearer =
    `  - { module: ${FIXTURES}test_bearer.ts, name: b, realm: r, token: t1, username: bob }\n`;
  await using gw = await startGateway(testConfig(UNCACHED + plain("one") + plain("two") + bearer));
  const outcome = gw.gateway.pipeline.authenticate(basicAuth("alice:no"), undefined, "127.0.0.1");
  assert.ok(outcome instanceof Promise);
  assert.deepEqual(await outcome, { ok: false, reason: "all_failed" });
  // A Basic credential rejected synchronously, then a Bearer one accepted later: the second wins.
  const both = await gw.gateway.pipeline.authenticate(
    `${basicAuth("alice:no")}, Bearer t1`,
    undefined,
    "127.0.0.1",
  );
  assert.equal(both.ok && both.user.username, "bob");
});

Deno.test("/authenticate: an uncached HS256 decision is answered without a promise", async () => {
  await using gw = await startGateway(testConfig(UNCACHED + plain("local")));
  const info = {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  const ask = (password: string) =>
    gw.gateway.appHandler(
      new Request("http://127.0.0.1/authenticate", {
        headers: { authorization: basicAuth(`alice:${password}`) },
      }),
      info,
    );
  const ok = ask("pw");
  assert.ok(ok instanceof Response, "the 200 is answered synchronously");
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "Authenticated successfully");
  const claims = decodeJwt(ok.headers.get("authorization")!.slice("Bearer ".length));
  assert.equal(claims.username, "alice");
  const denied = ask("no");
  assert.ok(denied instanceof Response, "the 401 is answered synchronously");
  assert.equal(denied.status, 401);
  assert.ok(denied.headers.get("www-authenticate")?.includes("Basic"));
  await denied.body?.cancel();
});

Deno.test("/authenticate: HEAD and GET answers of one cached decision stay apart", async () => {
  await using gw = await startGateway(testConfig("providers:\n" + plain("local")));
  const headers = { authorization: basicAuth("alice:pw") };
  for (const method of ["HEAD", "GET", "HEAD", "HEAD", "GET", "GET"]) {
    const { res, body } = await gw.request("/authenticate", { method, headers });
    assert.equal(res.status, 200, method);
    assert.equal(decodeJwt(res.headers.get("authorization")!.slice(7)).username, "alice");
    assert.equal(body, method === "HEAD" ? "" : "Authenticated successfully", method);
  }
});

Deno.test("/authenticate: 401 and 503 answers to HEAD are built without a body", async () => {
  const challenge = 'Basic realm="r"';
  for (const reason of ["all_failed", "upstream_unavailable"] as const) {
    const head = failureResponse({ ok: false, reason }, challenge, 503, true);
    assert.equal(head.body, null, reason);
    assert.equal(head.status, reason === "all_failed" ? 401 : 503);
    assert.equal(head.headers.get("www-authenticate"), challenge);
    const get = failureResponse({ ok: false, reason }, challenge, 503);
    assert.ok((await get.text()).length > 0, `${reason}: GET keeps its body`);
  }
  await using gw = await startGateway(testConfig(UNCACHED + plain("local")));
  const headers = { authorization: basicAuth("alice:no") };
  const head = await gw.request("/authenticate", { method: "HEAD", headers });
  assert.equal(head.res.status, 401);
  assert.equal(head.body, "");
  assert.ok(head.res.headers.get("www-authenticate")?.includes("Basic"));
  const get = await gw.request("/authenticate", { headers });
  assert.equal(get.res.status, 401);
  assert.ok(get.body.length > 0, "GET keeps the JSON body");
});
