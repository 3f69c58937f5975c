import assert from "node:assert/strict";
import efasApi from "../../providers/efas_api.ts";
import { OptionsError } from "../../lib/plugin.ts";
import { startGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig, reportMeasurement } from "../support/bearer.ts";
import {
  fault,
  faults,
  type IdentityUpstream,
  isFaultMode,
  json,
  type RecordedRequest,
  startIdentityUpstream,
} from "../support/identity_upstream.ts";

// Characters of an RFC 6750 b64token that need URL-encoding (others never reach the API).
const NASTY = "efas+tok/x~y=";

/** The EFAS token check, answering by token. */
function efasCheck(req: RecordedRequest): Response | Promise<Response> {
  if (req.path !== "/api/check" || req.method !== "GET") return faults.status(404);
  const token = req.query.get("token") ?? "";
  if (isFaultMode(token)) {
    return fault(token, req, { username: "floods" }, "/api/check?version=2&token=ok");
  }
  switch (token) {
    case NASTY:
    case "ok":
      return json({
        username: "floods",
        roles: ["admin", "viewer"],
        email: "floods@example.int",
        organisation: "EFAS",
      });
    case "null-email":
      return json({ username: "nomail", email: null });
    case "no-username":
      return json({ roles: ["admin"], email: "x@example.int" });
    case "bad-roles":
      return json({ username: "floods", roles: "admin" });
    case "forbidden":
      return json({ detail: "invalid token" }, 403);
    case "slow":
      return new Promise((r) => setTimeout(() => r(json({ username: "slow" })), 300));
    default:
      return json({ detail: "invalid token" }, 403);
  }
}

function provider(up: IdentityUpstream, extra = ""): string {
  return `  - type: efas-api
    name: EFAS
    realm: desp
    uri: "${up.url}/api/check?version=2"${extra}`;
}

Deno.test("efas-api authenticates via GET <uri>&token=<url-encoded>, roles as given, attributes {email}", async () => {
  await using up = startIdentityUpstream(efasCheck);
  await using gw = await startGateway(bearerConfig(provider(up)));
  const result = await authenticateBearer(gw, NASTY);
  assert.equal(result.status, 200);
  const [hit] = up.hits("/api/check");
  assert.equal(hit.method, "GET");
  // The existing query is kept and the token is appended, encoded.
  assert.equal(hit.rawQuery, "?version=2&token=efas%2Btok%2Fx%7Ey%3D");
  const claims = result.claims!;
  assert.equal(claims.username, "floods");
  assert.deepEqual(claims.roles, ["admin", "viewer"]);
  assert.deepEqual(claims.attributes, { email: "floods@example.int" });
  assert.deepEqual(claims.scopes, {});
  assert.ok(!JSON.stringify(claims).includes("efas+tok"));
  const nomail = await authenticateBearer(gw, "null-email");
  assert.deepEqual([nomail.claims?.username, nomail.claims?.attributes], ["nomail", {}]);
});

Deno.test("efas-api: the issued realm is the config realm, X-Auth-Realm efas selects it, the challenge says efas", async () => {
  await using up = startIdentityUpstream(efasCheck);
  await using gw = await startGateway(bearerConfig(provider(up)));
  const selected = await authenticateBearer(gw, "ok", "efas");
  assert.equal(selected.status, 200);
  assert.equal(selected.claims?.realm, "desp");
  assert.equal(selected.claims?.sub, "desp-floods");
  const byConfigRealm = await authenticateBearer(gw, "ok", "desp");
  assert.equal(byConfigRealm.status, 401);
  assert.equal(byConfigRealm.challenge, 'Bearer realm="efas"');
  assert.equal(up.hits("/api/check").length, 1, "cached for 60 s, and not called for realm desp");
});

Deno.test("efas-api rejects 403, a missing username and mistyped roles with 401", async () => {
  await using up = startIdentityUpstream(efasCheck);
  await using gw = await startGateway(bearerConfig(provider(up)));
  for (const token of ["forbidden", "no-username", "bad-roles"]) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, token);
    assert.equal(result.retryAfter, null, token);
  }
});

Deno.test("efas-api upstream faults answer 503 (401 with upstream_failure_status: 401) and are not cached", async () => {
  await using up = startIdentityUpstream(efasCheck);
  await using gw = await startGateway(bearerConfig(provider(up), { timeoutMs: 1500 }));
  await using legacy = await startGateway(
    bearerConfig(provider(up), { timeoutMs: 1500, upstreamFailureStatus: 401 }),
  );
  const tokens = ["e500", "e429", "hang", "drip", "huge", "bad-json", "redirect"];
  const results = await Promise.all(tokens.map(async (token) => {
    const first = await authenticateBearer(gw, token);
    const again = await authenticateBearer(gw, token);
    const original = await authenticateBearer(legacy, token);
    return { token, statuses: [first.status, again.status, original.status], first };
  }));
  for (const { token, statuses, first } of results) {
    assert.deepEqual(statuses, [503, 503, 401], token);
    assert.equal(first.retryAfter, "5", token);
    assert.equal(up.requests.filter((r) => r.query.get("token") === token).length, 3, token);
  }
  assert.equal(up.requests.filter((r) => r.query.get("token") === "ok").length, 0);
});

Deno.test("efas-api makes exactly one upstream call for 100 concurrent requests with one new token", async () => {
  await using up = startIdentityUpstream(efasCheck);
  await using gw = await startGateway(bearerConfig(provider(up)));
  const results = await Promise.all(
    Array.from({ length: 100 }, () => authenticateBearer(gw, "slow", "efas")),
  );
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  const calls = up.hits("/api/check").length;
  reportMeasurement("efas-api upstream calls for 100 concurrent identical tokens", calls);
  assert.equal(calls, 1);
});

Deno.test("efas-api parseOptions requires an http(s) uri", () => {
  for (const options of [{}, { uri: 42 }, { uri: "not a url" }]) {
    assert.throws(
      () => efasApi.parseOptions!(options),
      (e) => e instanceof OptionsError && e.path[0] === "uri",
    );
  }
  assert.equal(
    efasApi.parseOptions!({ uri: "https://efas.example/check/" }).uri,
    "https://efas.example/check/",
  );
});
