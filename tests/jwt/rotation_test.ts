/**
 * Key rotation with rolling restarts (docs/backends.md): two gateway replicas
 * behind a round-robin balancer, a backend verifying every token through the
 * balancer's `/.well-known/jwks.json` with jose's `createRemoteJWKSet`, and
 * traffic flowing the whole time. No request may fail.
 */

import assert from "node:assert/strict";
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify } from "jose";
import { basicAuth, startGateway, type TestGateway } from "../support/gateway.ts";
import { generateKey, jwtConfig, PLAIN_PROVIDER } from "./keys.ts";

const A = generateKey("EdDSA");
const B = generateKey("EdDSA");
const FILES = { "a.pem": A.privatePem, "b.pem": B.privatePem };
/** Milliseconds the test's verifiers may cache the JWKS (stands in for max-age). */
const VERIFIER_MAX_AGE = 400;

/** The four key sets of a rotation from key `a` to key `b`. */
const STEPS = {
  start: "    - { kid: a, private_key_file: a.pem, active: true }\n",
  publish: "    - { kid: a, private_key_file: a.pem, active: true }\n" +
    "    - { kid: b, private_key_file: b.pem, active: false }\n",
  switch: "    - { kid: a, private_key_file: a.pem, active: false }\n" +
    "    - { kid: b, private_key_file: b.pem, active: true }\n",
  retire: "    - { kid: b, private_key_file: b.pem, active: true }\n",
};

function replica(keys: string): Promise<TestGateway> {
  return startGateway(
    jwtConfig(`  exp: 300\n  algorithm: EdDSA\n  keys:\n${keys}`, PLAIN_PROVIDER),
    { files: FILES },
  );
}

/** A round-robin HTTP balancer whose pool can change; removal waits for in-flight requests. */
function balancer() {
  const pool: { url: string; inFlight: number }[] = [];
  let next = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const target = pool[next++ % pool.length]!;
    target.inFlight++;
    try {
      const url = new URL(req.url);
      const res = await fetch(target.url + url.pathname, { headers: req.headers });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    } finally {
      target.inFlight--;
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    add(url: string) {
      pool.push({ url, inFlight: 0 });
    },
    async remove(url: string) {
      const index = pool.findIndex((p) => p.url === url);
      const [gone] = pool.splice(index, 1);
      while (gone!.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    },
    shutdown: () => server.shutdown(),
  };
}

Deno.test("rotation: rolling restarts publish, switch and retire a key while every token verifies", async () => {
  const lb = balancer();
  const replicas = [await replica(STEPS.start), await replica(STEPS.start)];
  replicas.forEach((r) => lb.add(r.url));
  const jwks = createRemoteJWKSet(new URL(`${lb.url}/.well-known/jwks.json`), {
    cacheMaxAge: VERIFIER_MAX_AGE,
    cooldownDuration: 50,
  });
  let phase = "start";
  let stop = false;
  const failures: string[] = [];
  const seen: { phase: string; kid: string; token: string }[] = [];
  const traffic = (async () => {
    while (!stop) {
      const current = phase;
      try {
        const res = await fetch(`${lb.url}/authenticate`, {
          headers: { authorization: basicAuth("adam:admin") },
        });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        const token = res.headers.get("authorization")!.slice(7);
        const { protectedHeader } = await jwtVerify(token, jwks, { algorithms: ["EdDSA"] });
        seen.push({ phase: current, kid: protectedHeader.kid!, token });
      } catch (error) {
        failures.push(`${current}: ${(error as Error).message}`);
      }
    }
  })();
  const pause = () => new Promise((r) => setTimeout(r, VERIFIER_MAX_AGE + 200));
  const roll = async (keys: string) => {
    for (let i = 0; i < replicas.length; i++) {
      const fresh = await replica(keys);
      lb.add(fresh.url);
      await lb.remove(replicas[i]!.url);
      await replicas[i]![Symbol.asyncDispose]();
      replicas[i] = fresh;
      await pause();
    }
  };
  try {
    await pause();
    phase = "publish";
    await roll(STEPS.publish);
    phase = "switch";
    await roll(STEPS.switch);
    // Every token signed so far, by a or b, still verifies: both keys are published.
    const late = createRemoteJWKSet(new URL(`${lb.url}/.well-known/jwks.json`));
    for (const { token } of seen) await jwtVerify(token, late);
    phase = "retire";
    await roll(STEPS.retire);
  } finally {
    stop = true;
    await traffic;
    for (const r of replicas) await r[Symbol.asyncDispose]();
    await lb.shutdown();
  }
  assert.deepEqual(failures, []);
  const kids = (p: string) => new Set(seen.filter((s) => s.phase === p).map((s) => s.kid));
  for (const p of ["start", "publish", "switch", "retire"]) {
    assert.ok(seen.filter((s) => s.phase === p).length >= 3, `traffic flowed during ${p}`);
  }
  assert.deepEqual(kids("start"), new Set(["a"]));
  assert.deepEqual(kids("publish"), new Set(["a"]));
  assert.ok(kids("switch").has("b"));
  assert.deepEqual(kids("retire"), new Set(["b"]));
});

Deno.test("rotation: switching to an unpublished key breaks verifiers (why step 1 exists)", async () => {
  const jwksOf = (gw: TestGateway) => new URL(`${gw.url}/.well-known/jwks.json`);
  const issue = async (gw: TestGateway) => {
    const res = await fetch(`${gw.url}/authenticate`, {
      headers: { authorization: basicAuth("adam:admin") },
    });
    await res.body?.cancel();
    return res.headers.get("authorization")!.slice(7);
  };
  await using before = await replica(STEPS.start);
  // A verifier with jose's defaults (10 min cache, 30 s cooldown) learns key a;
  // its JWKS URL then points at the restarted gateway, as behind a balancer.
  let url = jwksOf(before);
  const jwks = createRemoteJWKSet(jwksOf(before), {
    [customFetch]: (_: string, init: RequestInit) => fetch(url, init),
  });
  await jwtVerify(await issue(before), jwks);
  await using after = await replica(STEPS.retire);
  url = jwksOf(after);
  const token = await issue(after);
  assert.equal(decodeProtectedHeader(token).kid, "b");
  await assert.rejects(jwtVerify(token, jwks), { code: "ERR_JWKS_NO_MATCHING_KEY" });
});
