import assert from "node:assert/strict";
import ecmwfApi from "../../providers/ecmwf_api.ts";
import { OptionsError } from "../../lib/plugin.ts";
import { startGateway } from "../support/gateway.ts";
import { freePort } from "../support/system.ts";
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
const NASTY = "key+token/other.frag~x==";

/** The ECMWF API's who-am-i, answering by token. */
function whoAmI(req: RecordedRequest): Response | Promise<Response> {
  if (req.path !== "/v1/who-am-i" || req.method !== "GET") return faults.status(404);
  const token = req.query.get("token") ?? "";
  if (isFaultMode(token)) return fault(token, req, { uid: "adam" }, "/v1/who-am-i?token=ok");
  switch (token) {
    case NASTY:
    case "ok":
      return json({ uid: "adam", email: "adam@example.int", full_name: "Adam" });
    case "no-email":
      return json({ uid: "eve", email: null });
    case "no-uid":
      return json({ email: "x@example.int" });
    case "forbidden":
      return json({ message: "Invalid API key" }, 403);
    case "gone":
      return faults.status(404);
    case "array":
      return json([{ uid: "adam" }]);
    case "slow":
      return new Promise((r) => setTimeout(() => r(json({ uid: "slow" })), 300));
    default:
      return json({ message: "Invalid API key" }, 403);
  }
}

function provider(up: IdentityUpstream, extra = ""): string {
  return `  - type: ecmwf-api
    name: ECMWF API Provider
    realm: ecmwf
    uri: ${up.url}/v1/${extra}`;
}

Deno.test("ecmwf-api authenticates via GET <uri>/who-am-i?token=<url-encoded> and maps uid/email", async () => {
  await using up = startIdentityUpstream(whoAmI);
  await using gw = await startGateway(bearerConfig(provider(up)));
  const result = await authenticateBearer(gw, NASTY);
  assert.equal(result.status, 200);
  const [hit] = up.hits("/v1/who-am-i");
  assert.equal(hit.method, "GET");
  assert.equal(hit.rawQuery, "?token=key%2Btoken%2Fother.frag%7Ex%3D%3D");
  assert.deepEqual([...hit.query.keys()], ["token"]);
  assert.equal(hit.headers.get("authorization"), null);
  const claims = result.claims!;
  assert.equal(claims.username, "adam");
  assert.equal(claims.realm, "ecmwf");
  assert.deepEqual(claims.roles, []);
  assert.deepEqual(claims.scopes, {});
  assert.deepEqual(claims.attributes, { "ecmwf-email": "adam@example.int" });
  // The API key never reaches the issued JWT.
  assert.ok(!JSON.stringify(claims).includes("key+token"));
  const bare = await authenticateBearer(gw, "no-email");
  assert.equal(bare.claims?.username, "eve");
  assert.deepEqual(bare.claims?.attributes, {});
});

Deno.test("ecmwf-api caches a success for 60 s: a second request makes no upstream call", async () => {
  await using up = startIdentityUpstream(whoAmI);
  await using gw = await startGateway(bearerConfig(provider(up)));
  assert.equal((await authenticateBearer(gw, "ok")).status, 200);
  assert.equal((await authenticateBearer(gw, "ok")).status, 200);
  assert.equal(up.hits("/v1/who-am-i").length, 1);
});

Deno.test("ecmwf-api rejects 403, 404 and a 2xx without uid with 401, caching the 403 briefly", async () => {
  await using up = startIdentityUpstream(whoAmI);
  await using gw = await startGateway(bearerConfig(provider(up)));
  for (const token of ["forbidden", "gone", "no-uid"]) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, token);
    assert.equal(result.retryAfter, null);
    assert.equal(result.challenge, 'Bearer realm="ecmwf"');
  }
  assert.equal((await authenticateBearer(gw, "forbidden")).status, 401);
  assert.equal(
    up.hits("/v1/who-am-i").filter((r) => r.query.get("token") === "forbidden").length,
    1,
  );
});

Deno.test("ecmwf-api negative_cache_ttl_s: 0 asks again after a rejection", async () => {
  await using up = startIdentityUpstream(whoAmI);
  const yaml = bearerConfig(provider(up) + "\n    negative_cache_ttl_s: 0");
  await using gw = await startGateway(yaml);
  assert.equal((await authenticateBearer(gw, "forbidden")).status, 401);
  assert.equal((await authenticateBearer(gw, "forbidden")).status, 401);
  assert.equal(up.hits("/v1/who-am-i").length, 2);
});

const FAULTS = ["e500", "e429", "hang", "drip", "huge", "bad-json", "array", "redirect"];

Deno.test("ecmwf-api upstream faults answer 503 with Retry-After, are not cached, and 401 with upstream_failure_status: 401", async () => {
  await using up = startIdentityUpstream(whoAmI);
  await using gw = await startGateway(bearerConfig(provider(up), { timeoutMs: 1500 }));
  await using legacy = await startGateway(
    bearerConfig(provider(up), { timeoutMs: 1500, upstreamFailureStatus: 401 }),
  );
  const results = await Promise.all(FAULTS.map(async (token) => {
    const first = await authenticateBearer(gw, token);
    const again = await authenticateBearer(gw, token);
    const original = await authenticateBearer(legacy, token);
    return { token, statuses: [first.status, again.status, original.status], first };
  }));
  for (const { token, statuses, first } of results) {
    assert.deepEqual(statuses, [503, 503, 401], token);
    assert.equal(first.retryAfter, "5", token);
    const hits = up.requests.filter((r) => r.query.get("token") === token).length;
    assert.equal(hits, 3, `${token}: failures must not be cached`);
  }
  // The redirect was not followed.
  assert.equal(up.requests.filter((r) => r.query.get("token") === "ok").length, 0);
});

Deno.test("ecmwf-api makes exactly one upstream call for 100 concurrent requests with one new key", async () => {
  await using up = startIdentityUpstream(whoAmI);
  await using gw = await startGateway(bearerConfig(provider(up)));
  const results = await Promise.all(
    Array.from({ length: 100 }, () => authenticateBearer(gw, "slow")),
  );
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  assert.equal(results[99].claims?.username, "slow");
  const calls = up.hits("/v1/who-am-i").length;
  reportMeasurement("ecmwf-api upstream calls for 100 concurrent identical keys", calls);
  assert.equal(calls, 1);
});

Deno.test("ecmwf-api parseOptions names a missing or non-http uri and bad cache settings", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{}, "uri"],
    [{ uri: "ftp://x" }, "uri"],
    [{ uri: "https://u:p@x" }, "uri"],
    [{ uri: "https://x", cache_ttl_s: -1 }, "cache_ttl_s"],
    [{ uri: "https://x", negative_cache_ttl_s: "10" }, "negative_cache_ttl_s"],
    [{ uri: "https://x", cache_max_entries: 0 }, "cache_max_entries"],
  ];
  for (const [options, key] of bad) {
    assert.throws(
      () => ecmwfApi.parseOptions!(options),
      (e) => e instanceof OptionsError && e.path[0] === key,
      key,
    );
  }
  const parsed = ecmwfApi.parseOptions!({ uri: "https://x/v1", negative_cache_ttl_s: 600 });
  assert.deepEqual(parsed.cache, { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 10_000 });
});

Deno.test("ecmwf-api: a refused connection is 503 and the key appears in no log line", async () => {
  const port = freePort();
  await using gw = await startGateway(bearerConfig(`  - type: ecmwf-api
    name: api
    realm: ecmwf
    uri: http://127.0.0.1:${port}/v1`));
  const result = await authenticateBearer(gw, "SECRET-API-KEY-7f3a");
  assert.equal(result.status, 503);
  assert.ok(gw.logs.some((line) => line.includes("upstream unreachable")));
  assert.deepEqual(gw.logs.filter((line) => line.includes("SECRET-API-KEY-7f3a")), []);
});
