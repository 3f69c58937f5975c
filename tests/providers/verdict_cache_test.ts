import assert from "node:assert/strict";
import ecmwfApi from "../../providers/ecmwf_api.ts";
import { createVerdictCache } from "../../providers/_shared/verdict_cache.ts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { callContext, pluginContext } from "../support/plugin_context.ts";
import { json, type RecordedRequest, startIdentityUpstream } from "../support/identity_upstream.ts";

const LIFETIMES = { ttlMs: 60_000, negativeTtlMs: 10_000, maxEntries: 100 };

/** A who-am-i that answers after `release` is called, remembering whether the client left. */
function gatedWhoAmI() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const left: boolean[] = [];
  return {
    release: () => open(),
    left,
    async handler(req: RecordedRequest): Promise<Response> {
      await Promise.race([gate, new Promise((r) => req.signal.addEventListener("abort", r))]);
      left.push(req.signal.aborted);
      return json({ uid: req.query.get("token") });
    },
  };
}

Deno.test("createVerdictCache() keeps the shared call alive while one caller still waits", async () => {
  const gated = gatedWhoAmI();
  await using up = startIdentityUpstream(gated.handler);
  const provider = await ecmwfApi.create(
    ecmwfApi.parseOptions!({ uri: up.url }),
    pluginContext("api", "ecmwf"),
  );
  const impatient = new AbortController();
  const first = provider.authenticate("tok+en", callContext(impatient.signal));
  const second = provider.authenticate("tok+en", callContext());
  while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  impatient.abort();
  await assert.rejects(first as Promise<unknown>, UpstreamUnavailableError);
  gated.release();
  assert.deepEqual(await second, { username: "tok+en", attributes: {} });
  assert.equal(up.requests.length, 1);
  assert.equal(up.requests[0].rawQuery, "?token=tok%2Ben");
  assert.deepEqual(gated.left, [false]);
});

Deno.test("createVerdictCache() aborts the upstream call when every caller gave up, and caches nothing", async () => {
  const gated = gatedWhoAmI();
  await using up = startIdentityUpstream(gated.handler);
  const provider = await ecmwfApi.create(
    ecmwfApi.parseOptions!({ uri: up.url }),
    pluginContext("api", "ecmwf"),
  );
  const callers = [new AbortController(), new AbortController()];
  const calls = callers.map((c) => provider.authenticate("abandoned", callContext(c.signal)));
  while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  callers.forEach((c) => c.abort());
  for (const call of calls) {
    await assert.rejects(call as Promise<unknown>, UpstreamUnavailableError);
  }
  while (gated.left.length === 0) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(gated.left, [true], "the upstream saw the client go away");
  gated.release();
  assert.equal((await provider.authenticate("abandoned", callContext()))?.username, "abandoned");
  assert.equal(up.requests.length, 2);
});

Deno.test("createVerdictCache() caches rejections for the negative TTL only and never caches failures", async () => {
  const context = pluginContext();
  const cache = createVerdictCache<string>(context, "t", LIFETIMES);
  let loads = 0;
  const signal = new AbortController().signal;
  const reject = () => {
    loads++;
    return Promise.resolve(null);
  };
  assert.equal(await cache.lookup("a", signal, reject), null);
  assert.equal(await cache.lookup("a", signal, reject), null);
  assert.equal(loads, 1);
  const fail = () => {
    loads++;
    return Promise.reject(new UpstreamUnavailableError("down", "5xx"));
  };
  await assert.rejects(cache.lookup("b", signal, fail), UpstreamUnavailableError);
  await assert.rejects(cache.lookup("b", signal, fail), UpstreamUnavailableError);
  assert.equal(loads, 3);
  cache.forget("a");
  assert.equal(await cache.lookup("a", signal, reject), null);
  assert.equal(loads, 4);
  const brief = createVerdictCache<string>(context, "v", { ...LIFETIMES, negativeTtlMs: 20 });
  assert.equal(await brief.lookup("d", signal, reject), null);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(await brief.lookup("d", signal, reject), null);
  assert.equal(loads, 6, "the rejection expired after the negative TTL");
  const shorter = createVerdictCache<string>(context, "u", LIFETIMES, () => 0);
  const accept = () => {
    loads++;
    return Promise.resolve("user");
  };
  assert.equal(await shorter.lookup("c", signal, accept), "user");
  assert.equal(await shorter.lookup("c", signal, accept), "user");
  assert.equal(loads, 8, "ttlFor 0 keeps nothing");
});

Deno.test("createVerdictCache() fails at once for an already aborted signal without loading", async () => {
  const cache = createVerdictCache<string>(pluginContext(), "t", LIFETIMES);
  const aborted = AbortSignal.abort();
  let loads = 0;
  await assert.rejects(
    cache.lookup("a", aborted, () => {
      loads++;
      return Promise.resolve("x");
    }),
    UpstreamUnavailableError,
  );
  assert.equal(loads, 0);
});
