// GET /explain (issue #18): the real pipeline on /authenticate's headers,
// on the metrics listener only, without the decision cache or a signature.
import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { baseClaims, signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).pathname;

const CONFIG = testConfig(`auth: { decision_cache_ttl_ms: 60000, brute_force: { max_failures: 3 } }
providers:
  - type: plain
    name: local
    realm: demo
    users: [{ username: alice, password: alice-secret-pw, roles: [user] }]
  - { module: ${FIXTURES}slow_basic.ts, name: backup, realm: demo, tag: b, delay_ms: 300 }
  - type: plain
    name: elsewhere
    realm: other
    users: []
  - { module: ${FIXTURES}test_bearer.ts, name: api, realm: demo }
augmenters:
  - type: plain_advanced
    name: admins
    realm: demo
    match: { username: [alice] }
    augment: { roles: [admin], attributes: { team: platform } }
`);

async function explain(gw: TestGateway, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.metricsUrl}/explain`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("authorization"), null, "no token is issued");
  const text = await res.text();
  return { text, doc: JSON.parse(text) };
}

type Record_ = { name: string; result: string; reason: string; duration_ms: number };

function byName(doc: { providers: Record_[] }): Record<string, Record_> {
  return Object.fromEntries(doc.providers.map((p) => [p.name, p]));
}

Deno.test("/explain: success shows the winner, the loser, skipped providers, augmenters, user and claims", async () => {
  await using gw = await startGateway(CONFIG);
  const { doc } = await explain(gw, { authorization: basicAuth("alice:alice-secret-pw") });
  assert.equal(doc.status, 200);
  assert.equal(doc.outcome, "success");
  assert.equal(doc.realm_filter, null);
  assert.deepEqual(doc.providers.map((p: { name: string }) => p.name), [
    "local",
    "backup",
    "elsewhere",
    "api",
  ]);
  const p = byName(doc);
  assert.equal(p.local.result, "accepted");
  assert.equal(p.local.reason, "credential accepted");
  assert.equal(typeof p.local.duration_ms, "number");
  assert.equal(p.backup.result, "not_run");
  assert.equal(p.backup.reason, "another provider accepted first");
  // Same scheme and no realm filter: it ran, and either answered first or lost the race.
  assert.ok(["rejected", "not_run"].includes(p.elsewhere.result), p.elsewhere.result);
  assert.deepEqual([p.api.result, p.api.reason], [
    "skipped",
    "scheme not in the Authorization header",
  ]);
  assert.deepEqual(doc.augmenters, [{
    name: "admins",
    type: "plain_advanced",
    result: "applied",
    roles_added: ["admin"],
    attributes_set: ["team"],
  }]);
  assert.equal(doc.user.username, "alice");
  assert.deepEqual(doc.user.roles, ["user", "admin"]);
  assert.equal(doc.claims.sub, "demo-alice");
  assert.equal(doc.claims.iss, "authotron-test");
  assert.deepEqual(doc.claims.roles, ["user", "admin"]);
});

Deno.test("/explain: a wrong password, a realm filter and no header; never echoes the credential", async () => {
  await using gw = await startGateway(CONFIG);
  const wrong = await explain(gw, {
    authorization: basicAuth("alice:not-the-password-xyz"),
    "x-auth-realm": "other",
  });
  assert.equal(wrong.doc.status, 401);
  assert.equal(wrong.doc.outcome, "all_failed");
  assert.equal(wrong.doc.realm_filter, "other");
  const p = byName(wrong.doc);
  assert.deepEqual([p.local.result, p.local.reason], [
    "skipped",
    "realm does not match X-Auth-Realm",
  ]);
  assert.deepEqual([p.elsewhere.result, p.elsewhere.reason], [
    "rejected",
    "unknown user",
  ]);
  assert.equal(wrong.doc.user, null);
  assert.equal(wrong.doc.claims, null);
  assert.deepEqual(wrong.doc.augmenters, []);
  assert.ok(!wrong.text.includes("not-the-password-xyz"));
  assert.ok(!wrong.text.includes(btoa("alice:not-the-password-xyz")));
  const none = await explain(gw);
  assert.equal(none.doc.outcome, "no_auth_header");
  assert.ok(
    none.doc.providers.every((r: { reason: string }) =>
      r.reason === "no usable Authorization header"
    ),
  );
});

Deno.test("/explain: a timed-out provider says so and the status is the upstream-failure one", async () => {
  await using gw = await startGateway(testConfig(`auth: { timeout_in_ms: 100 }
providers:
  - { module: ${FIXTURES}slow_basic.ts, name: slow, realm: demo, tag: t, delay_ms: 1000 }
`));
  const { doc } = await explain(gw, { authorization: basicAuth("ann:x") });
  assert.equal(doc.status, 503);
  assert.equal(doc.outcome, "upstream_unavailable");
  assert.deepEqual([doc.providers[0].result, doc.providers[0].reason], [
    "timeout",
    "no answer within 100 ms",
  ]);
});

Deno.test("/explain is on the metrics listener only, bypasses the decision cache, and counts toward brute-force limits", async () => {
  await using gw = await startGateway(CONFIG);
  const app = await gw.request("/explain", { headers: { authorization: basicAuth("a:b") } });
  assert.equal(app.res.status, 404);
  // A cached /authenticate decision does not answer /explain: the pipeline runs again.
  const ok = { authorization: basicAuth("alice:alice-secret-pw") };
  assert.equal((await gw.request("/authenticate", { headers: ok })).res.status, 200);
  for (let i = 0; i < 2; i++) {
    assert.equal((await explain(gw, ok)).doc.providers[0].result, "accepted");
  }
  // Failures through /explain throttle /authenticate too (max_failures: 3 per address+username).
  const bad = { authorization: basicAuth("alice:guess-1"), "x-auth-realm": "other" };
  for (let i = 0; i < 3; i++) assert.equal((await explain(gw, bad)).doc.outcome, "all_failed");
  const blocked = await explain(gw, bad);
  assert.equal(blocked.doc.outcome, "throttled");
  assert.ok(
    blocked.doc.providers.every((r: { reason: string }) =>
      r.reason === "not run: brute-force limit reached"
    ),
  );
  const viaApp = await gw.request("/authenticate", { headers: bad });
  assert.equal(viaApp.res.status, 401);
  assert.ok(viaApp.res.headers.get("retry-after"), "the same limit applies to /authenticate");
});

Deno.test("main.ts --explain reads the Authorization value from stdin and prints the report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, CONFIG);
    const run = async (line: string, realm?: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../main.ts", import.meta.url).pathname,
          "--explain",
          path,
          ...(realm ? ["--realm", realm] : []),
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(line + "\n"));
      await writer.close();
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    const ok = await run(basicAuth("alice:alice-secret-pw"));
    assert.equal(ok.status, 200);
    assert.equal(ok.user.username, "alice");
    const filtered = await run(basicAuth("alice:alice-secret-pw"), "other");
    assert.equal(filtered.status, 401);
    assert.equal(filtered.realm_filter, "other");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/explain: providers may give a short fixed reason; plain tells unknown user from wrong password; anything else is ignored", async () => {
  await using gw = await startGateway(testConfig(`providers:
  - type: plain
    name: local
    realm: demo
    users: [{ username: alice, password: alice-secret-pw }]
  - { module: ${FIXTURES}explaining_basic.ts, name: fine, realm: demo, reason: "token expired" }
  - { module: ${FIXTURES}explaining_basic.ts, name: shouty, realm: demo, reason: "EXPIRED" }
  - { module: ${FIXTURES}explaining_basic.ts, name: long, realm: demo, reason: "${"x".repeat(65)}" }
  - { module: ${FIXTURES}explaining_basic.ts, name: newline, realm: demo, reason: "a\\nb" }
`));
  const reasons = async (user: string) =>
    Object.fromEntries(
      (await explain(gw, { authorization: basicAuth(user) })).doc.providers.map((
        p: Record_,
      ) => [p.name, p.reason]),
    );
  assert.deepEqual(await reasons("alice:nope"), {
    local: "wrong password",
    fine: "token expired",
    shouty: "credential not accepted",
    long: "credential not accepted",
    newline: "credential not accepted",
  });
  assert.equal((await reasons("bob:nope")).local, "unknown user");
});

Deno.test("/explain: the jwt provider says why a token is refused (expired, unknown kid, signature mismatch, …)", async () => {
  const key = await signingKey("ES256");
  const other = await signingKey("ES256", key.kid); // same kid, another key: a forged signature
  await using server = startJwksServer([key.jwk]);
  await using gw = await startGateway(testConfig(`providers:
  - { type: jwt, name: idp, realm: demo, cert_uri: "${server.uri}" }
`));
  const reason = async (token: string) =>
    (await explain(gw, { authorization: `Bearer ${token}` })).doc.providers[0];
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string][] = [
    [await signToken(key, baseClaims({ exp: now - 120 })), "expired"],
    [await signToken(key, baseClaims(), { kid: "nope" }), "unknown kid"],
    [await signToken(other), "signature mismatch"],
    [await signToken(key, { sub: "a", exp: now + 60 }), "scope missing"],
    ["not.a.jwt", "not a well-formed jwt"],
  ];
  for (const [token, expected] of cases) {
    const record = await reason(token);
    assert.deepEqual([record.result, record.reason], ["rejected", expected], expected);
  }
  const ok = await reason(await signToken(key));
  assert.equal(ok.result, "accepted");
});
