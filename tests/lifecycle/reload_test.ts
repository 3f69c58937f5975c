// Live reload (issue #18): SIGHUP or Gateway.reload() re-reads the file,
// validates it exactly as startup does, and swaps everything in one step;
// a failure leaves the old config serving.
import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { startMain } from "./main_process.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).pathname;

function users(...names: string[]): string {
  return `providers:
  - type: plain
    name: local
    realm: demo
    users:
${names.map((n) => `      - { username: ${n}, password: ${n}-pw, roles: [user] }`).join("\n")}
`;
}

async function status(gw: TestGateway, user: string): Promise<number> {
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth(`${user}:${user}-pw`) },
  });
  return res.status;
}

async function metric(metricsUrl: string, line: string): Promise<number | undefined> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const found = text.split("\n").find((l) => l.startsWith(line + " "));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

type Event = { body: string; attributes: Record<string, unknown> };

function events(gw: TestGateway, name: string): Event[] {
  return gw.logs.map((l) => JSON.parse(l)).filter((e) => e.attributes["event.name"] === name);
}

/** Polls `check` until it is true, for at most `ms`; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const began = performance.now();
  while (!(await check())) {
    if (performance.now() - began > ms) throw new Error(`not within ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - began;
}

Deno.test("reload: a user added and another removed take effect at once, under load, with no failed request", async () => {
  await using gw = await startGateway(testConfig(users("alice", "bob"), {
    logging: "{ level: warn, format: json }",
  }));
  assert.equal(await status(gw, "bob"), 200);
  assert.equal(await status(gw, "carol"), 401);
  let running = true;
  let served = 0;
  const failures: number[] = [];
  const load = Array.from({ length: 4 }, async () => {
    while (running) {
      const code = await status(gw, "alice");
      served++;
      if (code !== 200) failures.push(code);
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  await Deno.writeTextFile(`${gw.dir}/config.yaml`, testConfig(users("alice", "carol")));
  const result = await gw.gateway.reload();
  assert.deepEqual(result, { ok: true, restartRequired: ["logging"] });
  const took = await within(
    2000,
    async () => (await status(gw, "carol")) === 200 && (await status(gw, "bob")) === 401,
  );
  await new Promise((r) => setTimeout(r, 200));
  running = false;
  await Promise.all(load);
  assert.deepEqual(failures, [], `${failures.length} failed of ${served}`);
  assert.ok(served > 20, `only ${served} requests ran during the reload`);
  assert.ok(took < 2000);
  assert.equal(await metric(gw.metricsUrl!, 'authotron_config_reload_total{result="success"}'), 1);
  assert.equal(await metric(gw.metricsUrl!, "authotron_config_last_reload_successful"), 1);
});

Deno.test("reload: an invalid file or a create() that throws leaves the old config serving and counts a failure", async () => {
  await using gw = await startGateway(testConfig(users("alice")));
  const path = `${gw.dir}/config.yaml`;
  const loadedAt = (await (await fetch(`${gw.metricsUrl}/status`)).json()).config.loaded_at;
  for (
    const [yaml, pattern] of [
      [testConfig(users("alice")).replace("port: 0 }", 'port: "x" }'), /server\.port: expected/],
      [
        testConfig(`providers:
  - { module: ${FIXTURES}create_throws.ts, name: broken, realm: demo }
`),
        /providers\[0\]: provider "broken": create\(\) failed: cannot reach the directory/,
      ],
    ] as const
  ) {
    await Deno.writeTextFile(path, yaml);
    const result = await gw.gateway.reload();
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, /^Error loading configuration: /);
    assert.match((result as { error: string }).error, pattern);
    assert.equal(await status(gw, "alice"), 200, "the old config keeps serving");
  }
  assert.equal(await metric(gw.metricsUrl!, 'authotron_config_reload_total{result="failure"}'), 2);
  assert.equal(await metric(gw.metricsUrl!, 'authotron_config_reload_total{result="success"}'), 0);
  assert.equal(await metric(gw.metricsUrl!, "authotron_config_last_reload_successful"), 0);
  const failed = events(gw, "config.reload.failed");
  assert.equal(failed.length, 2);
  assert.match(String(failed[1].body), /create\(\) failed/);
  const doc = await (await fetch(`${gw.metricsUrl}/status`)).json();
  assert.equal(doc.config.file, path);
  assert.equal(doc.config.loaded_at, loadedAt, "the serving config did not change");
  assert.deepEqual(doc.config.reloads, { success: 0, failure: 2 });
  assert.match(doc.config.last_reload_error, /create\(\) failed: cannot reach the directory/);
  // A good file afterwards clears the error.
  await Deno.writeTextFile(path, testConfig(users("alice", "carol")));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(await status(gw, "carol"), 200);
  const after = await (await fetch(`${gw.metricsUrl}/status`)).json();
  assert.equal(after.config.last_reload_error, null);
  assert.equal(await metric(gw.metricsUrl!, "authotron_config_last_reload_successful"), 1);
  const at = await metric(gw.metricsUrl!, "authotron_config_last_reload_success_timestamp_seconds");
  assert.ok(at !== undefined && Math.abs(at - Date.now() / 1000) < 10, String(at));
});

Deno.test("reload: a cached decision of a removed user does not survive", async () => {
  await using gw = await startGateway(
    testConfig(`auth: { decision_cache_ttl_ms: 60000 }\n${users("alice", "bob")}`),
  );
  assert.equal(await status(gw, "bob"), 200);
  assert.equal(await status(gw, "bob"), 200); // now answered from the decision cache
  await Deno.writeTextFile(
    `${gw.dir}/config.yaml`,
    testConfig(`auth: { decision_cache_ttl_ms: 60000 }\n${users("alice")}`),
  );
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(await status(gw, "bob"), 401);
  assert.equal(await status(gw, "alice"), 200);
});

Deno.test("reload: a request in flight finishes on the old pipeline; the old plugins are disposed after it", async () => {
  const g = globalThis as { __slowBasicEvents?: string[] };
  g.__slowBasicEvents = [];
  const slow = (tag: string, delay: number) =>
    testConfig(`providers:
  - { module: ${FIXTURES}slow_basic.ts, name: slow, realm: demo, tag: ${tag}, delay_ms: ${delay} }
`);
  await using gw = await startGateway(slow("old", 600));
  const pending = gw.request("/whoami", { headers: { authorization: basicAuth("ann:x") } });
  await within(2000, () => Promise.resolve(g.__slowBasicEvents!.includes("request-start:old")));
  await Deno.writeTextFile(`${gw.dir}/config.yaml`, slow("new", 0));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.ok(!g.__slowBasicEvents.includes("disposed:old"), "disposed while a request used it");
  // New requests already use the new generation.
  const fresh = await gw.request("/whoami", { headers: { authorization: basicAuth("bea:x") } });
  assert.deepEqual(JSON.parse(fresh.body).roles, ["new"]);
  const { res, body } = await pending;
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(body).roles, ["old"], "finished on the old pipeline");
  await within(1000, () => Promise.resolve(g.__slowBasicEvents!.includes("disposed:old")));
  const order = g.__slowBasicEvents;
  assert.ok(order.indexOf("request-end:old") < order.indexOf("disposed:old"), order.join(" "));
  assert.ok(!order.includes("disposed:new"));
});

Deno.test("reload: listener, store and logging changes are reported as restart_required and ignored", async () => {
  await using gw = await startGateway(testConfig(users("alice")));
  const port = gw.gateway.config.server.port;
  await Deno.writeTextFile(
    `${gw.dir}/config.yaml`,
    testConfig(users("alice", "carol")).replace("port: 0 }", "port: 1 }"),
  );
  const result = await gw.gateway.reload();
  assert.deepEqual(result, { ok: true, restartRequired: ["server"] });
  assert.equal(gw.gateway.config.server.port, port, "the listener settings are kept");
  assert.equal(await status(gw, "carol"), 200, "everything else is applied");
  const warned = events(gw, "config.reload.restart_required");
  assert.deepEqual(warned.map((e) => e.attributes.section), ["server"]);
  assert.equal(events(gw, "config.reload.succeeded").length, 1);
});

Deno.test("main.ts reloads on SIGHUP: a new user works within 2 s", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.yaml`;
  const yaml = (names: string[]) =>
    testConfig(users(...names), { logging: "{ level: info, format: json }" });
  await Deno.writeTextFile(path, yaml(["alice"]));
  const main = await startMain([], { AOT_CONFIG_PATH: path }, "startup.metrics.listening");
  try {
    const lines = main.output.split("\n").filter((l) => l.startsWith("{"));
    const port = (event: string) =>
      JSON.parse(lines.find((l) => l.includes(event))!).attributes.port;
    const app = `http://127.0.0.1:${port("startup.server.listening")}`;
    const metrics = `http://127.0.0.1:${port("startup.metrics.listening")}`;
    const carol = () =>
      fetch(`${app}/authenticate`, { headers: { authorization: basicAuth("carol:carol-pw") } })
        .then(async (r) => (await r.body?.cancel(), r.status));
    assert.equal(await carol(), 401);
    await Deno.writeTextFile(path, yaml(["alice", "carol"]));
    main.signal("SIGHUP");
    // Poll the reload counter, not carol: her refusals would trip the brute-force limit,
    // which (auth.brute_force being unchanged) carries over the reload.
    await within(
      2000,
      async () => (await metric(metrics, 'authotron_config_reload_total{result="success"}')) === 1,
    );
    assert.equal(await carol(), 200);
  } finally {
    assert.equal(await main.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts --watch-config reloads when the file changes, and a bad edit keeps the old config", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.yaml`;
  const yaml = (names: string[]) =>
    testConfig(users(...names), { logging: "{ level: info, format: json }" });
  await Deno.writeTextFile(path, yaml(["alice"]));
  const main = await startMain(
    ["--watch-config"],
    { AOT_CONFIG_PATH: path },
    "startup.metrics.listening",
  );
  try {
    const lines = main.output.split("\n").filter((l) => l.startsWith("{"));
    const port = (event: string) =>
      JSON.parse(lines.find((l) => l.includes(event))!).attributes.port;
    const app = `http://127.0.0.1:${port("startup.server.listening")}`;
    const metrics = `http://127.0.0.1:${port("startup.metrics.listening")}`;
    const code = (user: string) =>
      fetch(`${app}/authenticate`, { headers: { authorization: basicAuth(`${user}:${user}-pw`) } })
        .then(async (r) => (await r.body?.cancel(), r.status));
    await Deno.writeTextFile(path, yaml(["alice", "carol"]));
    await within(
      5000,
      async () => (await metric(metrics, 'authotron_config_reload_total{result="success"}')) === 1,
    );
    assert.equal(await code("carol"), 200);
    await Deno.writeTextFile(path, "version: [");
    await within(
      2000,
      async () => (await metric(metrics, 'authotron_config_reload_total{result="failure"}')) === 1,
    );
    assert.equal(await code("carol"), 200, "the old config keeps serving");
  } finally {
    assert.equal(await main.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reload: concurrent reloads run one after the other, each validated", async () => {
  await using gw = await startGateway(testConfig(users("alice")));
  await Deno.writeTextFile(`${gw.dir}/config.yaml`, testConfig(users("alice", "carol")));
  const results = await Promise.all([gw.gateway.reload(), gw.gateway.reload()]);
  assert.deepEqual(results.map((r) => r.ok), [true, true]);
  assert.equal(await status(gw, "carol"), 200);
  assert.equal(await metric(gw.metricsUrl!, 'authotron_config_reload_total{result="success"}'), 2);
  const done = events(gw, "config.reload.succeeded");
  assert.equal(done.length, 2);
});
