import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { startGateway, testConfig } from "../support/gateway.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).href;

function bearer(name: string, realm: string, options: string): string {
  return `  - { module: ${FIXTURES}test_bearer.ts, name: ${name}, realm: ${realm}, ${options} }\n`;
}

async function status(
  gw: { request: (p: string, i?: RequestInit) => Promise<{ res: Response }> },
  token: string,
) {
  return (await gw.request("/authenticate", { headers: { authorization: `Bearer ${token}` } })).res;
}

Deno.test("pipeline: one failing and one succeeding Bearer provider → 200", async () => {
  await using gw = await startGateway(testConfig(
    "providers:\n" + bearer("bad", "r", "mode: throw") +
      bearer("good", "r", "token: t1, username: u1"),
  ));
  assert.equal((await status(gw, "t1")).status, 200);
});

Deno.test("pipeline: a provider slower than the timeout loses; another can still win", async () => {
  await using gw = await startGateway(
    testConfig(
      "auth: { timeout_in_ms: 200 }\nproviders:\n" +
        bearer("slow", "r", "token: t1, username: slow, mode: hang") +
        bearer("fast", "r", "token: t1, username: fast, delay_ms: 20"),
    ),
  );
  const res = await status(gw, "t1");
  assert.equal(res.status, 200);
  assert.equal(decodeJwt(res.headers.get("authorization")!.slice(7)).username, "fast");
});

Deno.test("pipeline: the first success wins and aborts the others", async () => {
  await using gw = await startGateway(
    testConfig(
      "providers:\n" +
        bearer("late", "r", "token: t1, username: late, delay_ms: 2000") +
        bearer("early", "r", "token: t1, username: early, delay_ms: 10"),
    ),
  );
  const started = performance.now();
  const res = await status(gw, "t1");
  assert.equal(decodeJwt(res.headers.get("authorization")!.slice(7)).username, "early");
  assert.ok(performance.now() - started < 1500, "did not wait for the slow provider");
});

Deno.test("pipeline: a provider that can't decide gives 503 with Retry-After", async () => {
  await using gw = await startGateway(
    testConfig(
      "auth: { timeout_in_ms: 300 }\nproviders:\n" +
        bearer("down", "r", "mode: unavailable") + bearer("no", "r", "token: other, username: x"),
    ),
  );
  const res = await status(gw, "t1");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "5");
  assert.ok(res.headers.get("www-authenticate"));
});

Deno.test("pipeline: every provider timing out → 503, or 401 when configured", async () => {
  const providers = "providers:\n" + bearer("hang", "r", "mode: hang");
  await using gw = await startGateway(testConfig(`auth: { timeout_in_ms: 100 }\n${providers}`));
  const started = performance.now();
  assert.equal((await status(gw, "t")).status, 503);
  assert.ok(performance.now() - started < 3000);
  await using compat = await startGateway(
    testConfig(`auth: { timeout_in_ms: 100, upstream_failure_status: 401 }\n${providers}`),
  );
  assert.equal((await status(compat, "t")).status, 401);
});

Deno.test("pipeline: a definitive rejection by all providers is a 401", async () => {
  await using gw = await startGateway(
    testConfig(
      "providers:\n" + bearer("a", "r", "token: x, username: a") + bearer("b", "r", "mode: throw"),
    ),
  );
  assert.equal((await status(gw, "nope")).status, 401);
});

const AUGMENTED = (augmenters: string, auth = "") =>
  testConfig(`${auth}
providers:
${bearer("p", "r1", "token: t, username: u, roles: [base]")}augmenters:
${augmenters}`);

function aug(name: string, options: string, realm = "r1", extra = "") {
  return `  - { module: ${FIXTURES}test_augmenter.ts, name: ${name}, realm: ${realm}, ${options}${extra} }\n`;
}

Deno.test("pipeline: a hanging or failing augmenter never fails authentication", async () => {
  await using gw = await startGateway(AUGMENTED(
    aug("hang", "mode: hang") + aug("boom", "mode: throw") + aug("ok", "roles: [extra]"),
    "auth: { augmenter_timeout_in_ms: 150 }",
  ));
  const res = await status(gw, "t");
  assert.equal(res.status, 200);
  assert.deepEqual(decodeJwt(res.headers.get("authorization")!.slice(7)).roles, ["base", "extra"]);
});

Deno.test("pipeline: on_error fail turns an augmenter failure into 503", async () => {
  await using gw = await startGateway(
    AUGMENTED(aug("must", "mode: throw", "r1", ", on_error: fail")),
  );
  const res = await status(gw, "t");
  assert.equal(res.status, 503);
});

Deno.test("pipeline: augmenters of other realms do not run; serial ones see parallel roles", async () => {
  await using gw = await startGateway(AUGMENTED(
    `  - type: plain_advanced
    name: after-slow
    realm: r1
    match: { role: [slow-role] }
    augment: { roles: [chained], attributes: { exp: "1000" } }
  - type: plain_advanced
    name: after-chained
    realm: r1
    match: { role: [chained] }
    augment: { roles: [chained-2] }
` + aug("slow", "roles: [slow-role, base], delay_ms: 50") + aug("elsewhere", "roles: [nope]", "r2"),
  ));
  const before = Math.floor(Date.now() / 1000);
  const res = await status(gw, "t");
  const claims = decodeJwt(res.headers.get("authorization")!.slice(7));
  assert.deepEqual(claims.roles, ["base", "slow-role", "chained", "chained-2"]);
  // A past exp attribute (1000) caps the issued JWT, but never below the minimum lifetime (#22 F5).
  assert.ok(claims.exp! >= before + 5 && claims.exp! <= Date.now() / 1000 + 5, `${claims.exp}`);
});

Deno.test("issued JWT: a non-integer exp attribute is ignored; a smaller one caps", async () => {
  const soon = Math.floor(Date.now() / 1000) + 1800;
  await using gw = await startGateway(testConfig(`providers:
${bearer("a", "r", `token: t1, username: a, attributes: { exp: "1.7e9" }`)}${
    bearer("b", "r", `token: t2, username: b, attributes: { exp: "${soon}" }`)
  }`));
  const one = decodeJwt((await status(gw, "t1")).headers.get("authorization")!.slice(7));
  assert.ok(one.exp! > soon, "ignored");
  const two = decodeJwt((await status(gw, "t2")).headers.get("authorization")!.slice(7));
  assert.equal(two.exp, soon);
});
