import assert from "node:assert/strict";
import {
  type Authenticator,
  DecisionCache,
  type DecisionCacheOptions,
} from "../../lib/auth/decision_cache.ts";
import type { TokenIssuer } from "../../lib/jwt/issuer.ts";
import type { AuthOutcome } from "../../lib/auth/pipeline.ts";
import type { ResolvedUser } from "../../lib/plugin.ts";

function user(username: string, realm = "r"): ResolvedUser {
  return { version: 1, username, realm, roles: ["a"], attributes: {}, scopes: {} };
}

/** An authenticator that accepts `Basic good-<name>` and counts its calls. */
function counting(
  verdict: (authorization: string | undefined) => AuthOutcome = (authorization) =>
    authorization?.startsWith("Basic good-")
      ? { ok: true, user: user(authorization.slice(11)), provider: "p" }
      : { ok: false, reason: "all_failed" },
): Authenticator & { calls: number } {
  const inner = {
    calls: 0,
    authenticate(authorization: string | undefined) {
      inner.calls++;
      return Promise.resolve(verdict(authorization));
    },
  };
  return inner;
}

/** An issuer whose tokens carry a counter and an `exp` `lifetime` seconds ahead. */
function issuer(
  lifetime = 3600,
  clock: () => number = Date.now,
): TokenIssuer & { calls: number } {
  const inner = {
    alg: "HS256" as const,
    kid: "k1",
    calls: 0,
    expiry: (_: ResolvedUser, now: number) => now + lifetime,
    issue(u: ResolvedUser) {
      inner.calls++;
      const payload = btoa(JSON.stringify({
        username: u.username,
        n: inner.calls,
        exp: Math.floor(clock() / 1000) + lifetime,
      })).replace(/=+$/, "");
      return Promise.resolve(`h.${payload}.s`);
    },
  };
  return inner;
}

function cache(options: Partial<DecisionCacheOptions> = {}) {
  let now = 1_000_000;
  const decisions = new DecisionCache({
    ttlMs: 1000,
    reuseTokens: true,
    now: () => now,
    ...options,
  });
  return { decisions, advance: (ms: number) => now += ms, clock: () => now };
}

Deno.test("DecisionCache() a second request within the TTL reuses the decision and the JWT", async () => {
  const { decisions } = cache();
  const inner = counting();
  const signer = issuer();
  const auth = decisions.wrapAuthenticator(inner);
  const issue = decisions.wrapIssuer(signer);
  const first = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(first.ok);
  const token = await issue.issue(first.user);
  const second = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(second.ok);
  assert.equal(await issue.issue(second.user), token);
  assert.equal(inner.calls, 1);
  assert.equal(signer.calls, 1);
  assert.deepEqual(decisions.stats, { hits: 1, misses: 1 });
});

Deno.test("DecisionCache() a different credential or realm is never served from the cache", async () => {
  const { decisions } = cache();
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  assert.ok((await auth.authenticate("Basic good-alice", undefined)).ok);
  const other = await auth.authenticate("Basic good-alicf", undefined);
  assert.ok(other.ok && other.user.username === "alicf");
  assert.equal((await auth.authenticate("Basic wrong", undefined)).ok, false);
  const realm = await auth.authenticate("Basic good-alice", "other");
  const empty = await auth.authenticate("Basic good-alice", "");
  assert.ok(realm.ok && empty.ok);
  assert.equal(inner.calls, 5, "each distinct (authorization, realm) pair reached the pipeline");
  assert.equal(decisions.stats.hits, 0);
});

Deno.test("DecisionCache() failures, upstream outages and degraded successes are never cached", async () => {
  const { decisions } = cache();
  const outcomes: AuthOutcome[] = [
    { ok: false, reason: "all_failed" },
    { ok: false, reason: "upstream_unavailable" },
    { ok: true, user: user("alice"), provider: "p", degraded: true },
  ];
  for (const outcome of outcomes) {
    const inner = counting(() => outcome);
    const auth = decisions.wrapAuthenticator(inner);
    await auth.authenticate("Basic good-alice", undefined);
    await auth.authenticate("Basic good-alice", undefined);
    assert.equal(inner.calls, 2, JSON.stringify(outcome));
  }
  assert.equal(decisions.size, 0);
});

Deno.test("DecisionCache() requests without Authorization bypass the cache", async () => {
  const { decisions } = cache();
  const inner = counting(() => ({ ok: false, reason: "no_auth_header" }));
  const auth = decisions.wrapAuthenticator(inner);
  await auth.authenticate(undefined, undefined);
  await auth.authenticate(undefined, undefined);
  assert.equal(inner.calls, 2);
  assert.deepEqual(decisions.stats, { hits: 0, misses: 0 });
});

Deno.test("DecisionCache() TTL 0 disables it: the wrappers are the wrapped objects", () => {
  const { decisions } = cache({ ttlMs: 0 });
  const inner = counting();
  const signer = issuer();
  assert.equal(decisions.enabled, false);
  assert.equal(decisions.wrapAuthenticator(inner), inner);
  assert.equal(decisions.wrapIssuer(signer), signer);
});

Deno.test("DecisionCache() entries expire after the TTL", async () => {
  const { decisions, advance } = cache({ ttlMs: 500 });
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  await auth.authenticate("Basic good-alice", undefined);
  advance(499);
  await auth.authenticate("Basic good-alice", undefined);
  assert.equal(inner.calls, 1);
  advance(1);
  await auth.authenticate("Basic good-alice", undefined);
  assert.equal(inner.calls, 2);
});

Deno.test("DecisionCache() is bounded: the oldest decision goes first", async () => {
  const { decisions } = cache({ maxEntries: 3 });
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  for (const name of ["a", "b", "c"]) await auth.authenticate(`Basic good-${name}`, undefined);
  await auth.authenticate("Basic good-a", undefined); // a hit: a stays the oldest
  await auth.authenticate("Basic good-d", undefined);
  assert.equal(decisions.size, 3);
  inner.calls = 0;
  await auth.authenticate("Basic good-b", undefined);
  assert.equal(inner.calls, 0, "b is still cached");
  await auth.authenticate("Basic good-a", undefined);
  assert.equal(inner.calls, 1, "a, inserted first, was evicted first");
  for (let i = 0; i < 100; i++) await auth.authenticate(`Basic good-x${i}`, undefined);
  assert.equal(decisions.size, 3);
  inner.calls = 0;
  await auth.authenticate("Basic good-x99", undefined);
  assert.equal(inner.calls, 0, "the newest entry is still cached");
  await auth.authenticate("Basic good-a", undefined);
  assert.equal(inner.calls, 1, "older entries were evicted");
});

Deno.test("DecisionCache() invalidateAll() and invalidateUser() drop entries at once", async () => {
  const { decisions } = cache();
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  await auth.authenticate("Basic good-alice", undefined);
  await auth.authenticate("Basic good-alice", "r");
  await auth.authenticate("Basic good-bob", undefined);
  assert.equal(decisions.invalidateUser("alice", "r"), 2);
  assert.equal(decisions.invalidateUser("alice", "other-realm"), 0);
  inner.calls = 0;
  await auth.authenticate("Basic good-bob", undefined);
  assert.equal(inner.calls, 0, "bob is still cached");
  await auth.authenticate("Basic good-alice", undefined);
  assert.equal(inner.calls, 1, "alice was evicted");
  decisions.invalidateAll();
  assert.equal(decisions.size, 0);
  await auth.authenticate("Basic good-bob", undefined);
  assert.equal(inner.calls, 2);
});

Deno.test("DecisionCache() a decision in flight during an invalidation is not stored", async () => {
  const { decisions } = cache();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const inner = {
    calls: 0,
    async authenticate(): Promise<AuthOutcome> {
      inner.calls++;
      await gate;
      return { ok: true, user: user("alice"), provider: "p" };
    },
  };
  const auth = decisions.wrapAuthenticator(inner);
  const pending = auth.authenticate("Basic good-alice", undefined);
  decisions.invalidateUser("alice", "r");
  release();
  assert.ok((await pending).ok);
  assert.equal(decisions.size, 0);
});

Deno.test("DecisionCache() signs every token when reuse is off (e.g. jwt.include_jti)", async () => {
  const { decisions } = cache({ reuseTokens: false });
  const signer = issuer();
  const auth = decisions.wrapAuthenticator(counting());
  const issue = decisions.wrapIssuer(signer);
  assert.equal(issue, signer);
  for (let i = 0; i < 2; i++) {
    const outcome = await auth.authenticate("Basic good-alice", undefined);
    assert.ok(outcome.ok);
    await issue.issue(outcome.user);
  }
  assert.equal(signer.calls, 2);
  assert.equal(decisions.stats.hits, 1, "the decision itself is still reused");
});

Deno.test("DecisionCache() reuses a JWT only during the first quarter of its lifetime", async () => {
  const { decisions, advance, clock } = cache({ ttlMs: 60_000 });
  const signer = issuer(4, clock); // 4 s lifetime: reusable for 1 s
  const auth = decisions.wrapAuthenticator(counting());
  const issue = decisions.wrapIssuer(signer);
  const next = async () => {
    const outcome = await auth.authenticate("Basic good-alice", undefined);
    assert.ok(outcome.ok);
    return await issue.issue(outcome.user);
  };
  const first = await next();
  advance(500);
  assert.equal(await next(), first);
  advance(1000);
  assert.notEqual(await next(), first);
  assert.equal(signer.calls, 2);
});

Deno.test("DecisionCache() concurrent hits share one signature; a failed signature is not reused", async () => {
  const { decisions } = cache();
  const auth = decisions.wrapAuthenticator(counting());
  let calls = 0;
  const flaky: TokenIssuer = {
    alg: "HS256",
    kid: "k1",
    expiry: (_, now) => now + 3600,
    issue() {
      calls++;
      return calls === 1 ? Promise.reject(new Error("signing failed")) : issuer().issue(user("a"));
    },
  };
  const issue = decisions.wrapIssuer(flaky);
  const outcome = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(outcome.ok);
  const results = await Promise.allSettled([issue.issue(outcome.user), issue.issue(outcome.user)]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(calls, 1, "the concurrent call shared the in-flight signature");
  const again = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(again.ok);
  await issue.issue(again.user);
  assert.equal(calls, 2, "the failure was not kept");
});

Deno.test("DecisionCache() an explicit issue time bypasses token reuse", async () => {
  const { decisions } = cache();
  const signer = issuer();
  const auth = decisions.wrapAuthenticator(counting());
  const issue = decisions.wrapIssuer(signer);
  const outcome = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(outcome.ok);
  await issue.issue(outcome.user);
  await issue.issue(outcome.user, 1234);
  assert.equal(signer.calls, 2);
});

Deno.test("DecisionCache() respond() serves copies of one response per cached decision and token", async () => {
  const { decisions } = cache();
  const auth = decisions.wrapAuthenticator(counting());
  let builds = 0;
  const build = (token: string) => () => {
    builds++;
    return new Response("body", { headers: { authorization: `Bearer ${token}` } });
  };
  const outcome = await auth.authenticate("Basic good-alice", undefined);
  assert.ok(outcome.ok);
  for (let i = 0; i < 3; i++) {
    const res = decisions.respond(outcome.user, "t1", build("t1"));
    assert.equal(res.headers.get("authorization"), "Bearer t1");
    if (i === 1) await res.body!.cancel();
    else assert.equal(await res.text(), "body");
  }
  assert.equal(builds, 1);
  assert.equal(
    decisions.respond(outcome.user, "t2", build("t2")).headers.get("authorization"),
    "Bearer t2",
  );
  assert.equal(builds, 2, "a new token builds a new response");
  await decisions.respond(user("stranger"), "t1", build("t1")).body?.cancel();
  assert.equal(builds, 3, "a user from no cached decision gets a fresh response");
});

Deno.test("DecisionCache() cachedResponse() answers synchronously once the JWT and response exist", async () => {
  const { decisions } = cache();
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  const issue = decisions.wrapIssuer(issuer());
  const header = "Basic good-alice";
  assert.equal(decisions.cachedResponse(header, undefined), undefined, "nothing cached yet");
  const outcome = await auth.authenticate(header, undefined);
  assert.ok(outcome.ok);
  assert.equal(decisions.cachedResponse(header, undefined), undefined, "no JWT yet");
  await auth.authenticate(header, undefined);
  const token = await issue.issue(outcome.user);
  await decisions.respond(outcome.user, token, () => new Response(token)).body?.cancel();
  const fast = decisions.cachedResponse(header, undefined);
  assert.ok(fast instanceof Response);
  assert.equal(await fast.text(), token);
  assert.equal(
    decisions.cachedResponse(header, "other"),
    undefined,
    "another realm is another key",
  );
  assert.equal(decisions.cachedResponse("Basic good-bob", undefined), undefined);
  assert.equal(inner.calls, 1);
  assert.deepEqual(decisions.stats, { hits: 2, misses: 1 });
});

Deno.test("DecisionCache() keeps a HEAD answer apart from the GET answer, without a body", async () => {
  const { decisions } = cache();
  const auth = decisions.wrapAuthenticator(counting());
  const issue = decisions.wrapIssuer(issuer());
  const header = "Basic good-alice";
  const outcome = await auth.authenticate(header, undefined);
  assert.ok(outcome.ok);
  const token = await issue.issue(outcome.user);
  const headers = { authorization: `Bearer ${token}` };
  await decisions.respond(outcome.user, token, () => new Response("body", { headers })).text();
  assert.equal(
    decisions.cachedResponse(header, undefined, undefined, undefined, true),
    undefined,
    "no HEAD answer built yet: the GET one is not sent for a HEAD",
  );
  const head = decisions.respond(outcome.user, token, () => new Response(null, { headers }), true);
  assert.equal(head.body, null);
  const fastHead = decisions.cachedResponse(header, undefined, undefined, undefined, true);
  assert.ok(fastHead instanceof Response);
  assert.equal(fastHead.body, null, "a HEAD answer has no stream to cancel");
  assert.equal(fastHead.headers.get("authorization"), `Bearer ${token}`);
  const fastGet = decisions.cachedResponse(header, undefined);
  assert.equal(await fastGet?.text(), "body", "the GET answer keeps its body");
});

Deno.test("DecisionCache() never caches decisions of uncachedProviders (a shared token store)", async () => {
  const { decisions } = cache({ uncachedProviders: new Set(["p"]) });
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  await auth.authenticate("Basic good-alice", undefined);
  await auth.authenticate("Basic good-alice", undefined);
  assert.equal(inner.calls, 2);
  assert.equal(decisions.size, 0);
});

Deno.test("DecisionCache() keys include the client address (brute-force blocks stay per client)", async () => {
  const { decisions } = cache();
  const inner = counting();
  const auth = decisions.wrapAuthenticator(inner);
  await auth.authenticate("Basic good-alice", undefined, "192.0.2.1");
  await auth.authenticate("Basic good-alice", undefined, "192.0.2.1");
  assert.equal(inner.calls, 1);
  await auth.authenticate("Basic good-alice", undefined, "192.0.2.2");
  await auth.authenticate("Basic good-alice", undefined);
  assert.equal(inner.calls, 3, "another address is another decision");
});

Deno.test("DecisionCache() a decision never outlives its credential's exp attribute", async () => {
  const { decisions, advance, clock } = cache({ ttlMs: 60_000 });
  // A Bearer JWT expiring 2 s from now, one already expired (accepted inside the provider's
  // leeway), and a non-integer exp (ignored, as the issuer ignores it).
  const expAt: Record<string, string> = {
    soon: String(Math.floor(clock() / 1000) + 2),
    past: String(Math.floor(clock() / 1000) - 1),
    odd: "soon",
  };
  const inner = counting((authorization) => {
    const name = authorization!.slice("Bearer ".length);
    return {
      ok: true,
      user: { ...user(name), attributes: { exp: expAt[name]! } },
      provider: "jwt",
    };
  });
  const auth = decisions.wrapAuthenticator(inner);
  const calls = async (authorization: string) => {
    const before = inner.calls;
    assert.ok((await auth.authenticate(authorization, undefined)).ok);
    return inner.calls - before;
  };
  assert.equal(await calls("Bearer soon"), 1);
  advance(1_500);
  assert.equal(await calls("Bearer soon"), 0, "cached while the token is valid");
  advance(1_000);
  assert.equal(await calls("Bearer soon"), 1, "decided again once the token's exp has passed");
  assert.equal(await calls("Bearer past"), 1);
  assert.equal(await calls("Bearer past"), 1, "an expired credential's decision is never stored");
  assert.equal(await calls("Bearer odd"), 1);
  advance(30_000);
  assert.equal(await calls("Bearer odd"), 0, "a non-integer exp does not shorten the TTL");
});
