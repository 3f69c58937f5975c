/**
 * `@authotron/plugin/testing`: plugins built as the gateway builds them (its
 * shape checks, parseOptions, context services and user checks), calls
 * bounded by a timeout, a recording logger and a fake clock for caches.
 */

import assert from "node:assert/strict";
import {
  defineAugmenter,
  defineProvider,
  OptionsError,
  UpstreamUnavailableError,
} from "@authotron/plugin";
import {
  InvalidUserError,
  PluginContractError,
  testAugmenter,
  testProvider,
} from "@authotron/plugin/testing";
import staticApiKeys from "../../examples/plugins/static_api_keys.ts";
import emailDomainRoles from "../../examples/plugins/email_domain_roles.ts";

const KEY = "robot-key-0123456789";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("testProvider: the example provider accepts its key, completes the user, rejects others", async () => {
  const options = { keys: [{ sha256: await sha256Hex(KEY), username: "ci", roles: ["deploy"] }] };
  await using robots = await testProvider(staticApiKeys, options, { realm: "machines" });
  const user = await robots.authenticate(KEY);
  assert.deepEqual(user, {
    version: 1,
    username: "ci",
    realm: "machines",
    roles: ["deploy"],
    attributes: {},
    scopes: {},
  });
  assert.equal(await robots.authenticate("wrong"), undefined);
  robots.assertNotLogged(KEY);
});

Deno.test("testProvider: parseOptions runs first and its OptionsError names the key", async () => {
  await assert.rejects(
    testProvider(staticApiKeys, { keys: [{ sha256: "nothex", username: "ci" }] }),
    (e) => e instanceof OptionsError && e.path.join(".") === "keys.0.sha256",
  );
});

Deno.test("testProvider: a module or instance off the contract fails with the gateway's message", async () => {
  await assert.rejects(
    testProvider({ scheme: "Digest", create() {} } as never),
    (e) =>
      e instanceof PluginContractError &&
      e.message === `the default export's scheme must be "Basic" or "Bearer"`,
  );
  await assert.rejects(
    testProvider({ scheme: "Basic", create: () => ({ check() {} }) } as never),
    (e) =>
      e instanceof PluginContractError &&
      e.message === "create() must return an object with an authenticate() method",
  );
  await assert.rejects(
    testAugmenter({ serial: "yes", create: () => ({ augment() {} }) } as never),
    (e) =>
      e instanceof PluginContractError &&
      e.message === "the default export's serial must be a boolean",
  );
});

Deno.test("testProvider: a user with a bad field is refused as the gateway refuses it", async () => {
  const bad = defineProvider({
    scheme: "Bearer",
    create: () => ({ authenticate: () => ({ username: "x", roles: "admin" }) as never }),
  });
  await using t = await testProvider(bad);
  await assert.rejects(t.authenticate("t"), InvalidUserError);
});

Deno.test("testProvider: caches from context.createCache run on the fake clock", async () => {
  let loads = 0;
  const cached = defineProvider({
    scheme: "Bearer",
    create(_options, context) {
      const cache = context.createCache<string>("verdicts", { ttlMs: 1000 });
      return {
        async authenticate(credential) {
          const name = await cache.getOrLoad(context.credentialKey(credential), () => {
            loads++;
            return Promise.resolve("u" + loads);
          });
          return { username: name };
        },
      };
    },
  });
  await using t = await testProvider(cached, {}, { startTime: 0 });
  assert.equal(t.clock.now(), 0);
  assert.equal((await t.authenticate("a"))?.username, "u1");
  t.clock.advance(999);
  assert.equal((await t.authenticate("a"))?.username, "u1", "fresh before the TTL");
  t.clock.advance(1);
  assert.equal((await t.authenticate("a"))?.username, "u2", "reloaded at the TTL");
  assert.equal(loads, 2);
});

Deno.test("testProvider: a call that outlives timeoutMs is 'could not decide' and its signal aborts", async () => {
  let aborted = false;
  const slow = defineProvider({
    scheme: "Bearer",
    create: () => ({
      authenticate: (_credential, { signal }) =>
        new Promise<undefined>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve(undefined);
          });
        }),
    }),
  });
  await using t = await testProvider(slow, {}, { timeoutMs: 50 });
  await assert.rejects(
    t.authenticate("t"),
    (e) => e instanceof UpstreamUnavailableError && e.kind === "timeout",
  );
  assert.ok(aborted);
});

Deno.test("testProvider: context.http is the gateway's upstream layer (a 503 is 'could not decide')", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("down", { status: 503 }),
  );
  const remote = defineProvider<{ url: string }>({
    scheme: "Bearer",
    parseOptions: (options) => ({ url: String(options.url) }),
    create: ({ url }, context) => ({
      async authenticate(credential, { signal, log }) {
        log.info("remote.call", "asking the identity service", { token: credential });
        const res = await context.http.request(url, { signal, query: { token: credential } });
        return res.status === 200 ? { username: "x" } : undefined;
      },
    }),
  });
  await using t = await testProvider(remote, { url: `http://127.0.0.1:${server.addr.port}/` });
  await assert.rejects(
    t.authenticate("secret-token"),
    (e) => e instanceof UpstreamUnavailableError && e.kind === "5xx",
  );
  assert.equal(t.logs.length, 1);
  assert.equal(t.logs[0].event, "remote.call");
  assert.throws(() => t.assertNotLogged("secret-token"), /logged a secret in event "remote.call"/);
});

Deno.test("testAugmenter: the example augmenter's patch is applied as the gateway applies it", async () => {
  await using staff = await testAugmenter(
    emailDomainRoles,
    { domains: { "ecmwf.int": ["staff", "user"] } },
    { realm: "ecmwf" },
  );
  const { patch, user } = await staff.augment({
    username: "adam",
    roles: ["user"],
    attributes: { email: "adam@ECMWF.int" },
  });
  assert.deepEqual(patch, { roles: ["staff", "user"] });
  assert.deepEqual(user.roles, ["user", "staff"], "appended without duplicates");
  assert.equal(user.realm, "ecmwf");
});

Deno.test("testAugmenter: an augmenter that mutates the user fails", async () => {
  const mutating = defineAugmenter({
    create: () => ({
      augment(user) {
        (user.roles as string[]).push("admin");
        return undefined;
      },
    }),
  });
  await using t = await testAugmenter(mutating);
  await assert.rejects(t.augment({ username: "adam" }), TypeError);
});
