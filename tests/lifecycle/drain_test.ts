// Graceful shutdown of a real main.ts process: after SIGTERM both listeners keep serving for
// shutdown.drain_delay_ms with /ready 503 and every answer closing its connection, so no
// keep-alive client loses a request.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { basicAuth } from "../support/gateway.ts";
import { keepAliveClient, type RawResponse } from "../support/raw_http.ts";
import { sleep } from "../support/system.ts";
import { startMain } from "./main_process.ts";

const ALICE = { authorization: basicAuth("alice:alice-pw") };

async function configFile(drainDelayMs: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "aot-drain-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: true, port: 0 }
shutdown: { drain_delay_ms: ${drainDelayMs} }
store: { enabled: false }
services: []
providers:
  - type: plain
    name: demo-users
    realm: demo
    users: [{ username: alice, password: alice-pw, roles: [user] }]
jwt: { iss: drain-test, exp: 60, secret: drain-test-secret-that-is-long-enough }
logging: { level: info, format: json }
`,
  );
  return path;
}

function port(output: string, event: string): number {
  const line = output.split("\n").find((l) => l.includes(event))!;
  return JSON.parse(line).attributes.port;
}

interface ClientTally {
  answered: number;
  lost: number;
  sawClose: boolean;
  statuses: Set<number>;
}

/**
 * A keep-alive client that sends requests back to back until an answer says
 * `Connection: close` (then, like a load balancer, it sends nothing more to this
 * gateway). A request whose connection closed without an answer is lost.
 */
async function busyClient(appPort: number, stop: { at: number }): Promise<ClientTally> {
  const tally: ClientTally = { answered: 0, lost: 0, sawClose: false, statuses: new Set() };
  const client = await keepAliveClient(appPort);
  try {
    while (performance.now() < stop.at) {
      const res: RawResponse | undefined = await client.get("/authenticate", ALICE);
      if (res === undefined) {
        tally.lost++;
        break;
      }
      tally.answered++;
      tally.statuses.add(res.status);
      if (res.headers.get("connection")?.toLowerCase() === "close") {
        tally.sawClose = true;
        break;
      }
    }
  } finally {
    client.close();
  }
  return tally;
}

Deno.test("SIGTERM under 20 busy keep-alive connections: 0 lost requests, /ready 503 during the drain", async () => {
  const path = await configFile(1500);
  const main = await startMain([], { AOT_CONFIG_PATH: path }, "startup.metrics.listening");
  const appPort = port(main.output, "startup.server.listening");
  const metricsPort = port(main.output, "startup.metrics.listening");
  const stop = { at: Infinity };
  const clients = Array.from({ length: 20 }, () => busyClient(appPort, stop));
  await sleep(300);
  const signalled = performance.now();
  const exited = main.stop(); // SIGTERM, then wait for the exit code
  stop.at = signalled + 10_000; // a safety net: the test fails below if anyone runs this long

  // During the drain the listeners are up: /ready says 503, a new connection is still served.
  await sleep(300);
  const during: (RawResponse | string | undefined)[] = [];
  for (
    const [probePort, path] of [[appPort, "/ready"], [metricsPort, "/ready"], [
      appPort,
      "/authenticate",
    ]] as const
  ) {
    try {
      const probe = await keepAliveClient(probePort);
      during.push(await probe.get(path, ALICE));
      probe.close();
    } catch (error) {
      during.push(String(error)); // refused: the listener is already gone
    }
  }

  const tallies = await Promise.all(clients);
  assert.equal(await exited, 0);
  const stoppedAfter = performance.now() - signalled;
  const lost = tallies.reduce((n, t) => n + t.lost, 0);
  const answered = tallies.reduce((n, t) => n + t.answered, 0);
  assert.equal(lost, 0, `lost requests: ${lost} of ${answered + lost}`);
  assert.ok(tallies.every((t) => t.sawClose), "every connection was told to close");
  assert.ok(tallies.every((t) => t.statuses.size === 1 && t.statuses.has(200)));
  assert.ok(stoppedAfter >= 1500, `the listeners stayed up for the drain (${stoppedAfter} ms)`);
  const [appReady, metricsReady, served] = during as (RawResponse | undefined)[];
  for (const ready of [appReady, metricsReady]) {
    assert.equal(ready?.status, 503, `/ready during the drain: ${JSON.stringify(ready)}`);
    assert.equal(JSON.parse(ready!.body).shutting_down, true);
    assert.equal(ready!.headers.get("connection"), "close");
  }
  assert.equal(served?.status, 200, "a request on a new connection during the drain is served");
  const events = main.output.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l).attributes["event.name"]
  );
  assert.ok(events.includes("shutdown.started"));
});

Deno.test("shutdown.drain_delay_ms: default 1000, bounded, a bad value names the key", async () => {
  const withDelay = await loadConfig(await configFile(250), {});
  assert.equal(withDelay.shutdown.drainDelayMs, 250);
  const text = await Deno.readTextFile(await configFile(0));
  const dir = await Deno.makeTempDir({ prefix: "aot-drain-" });
  await Deno.writeTextFile(`${dir}/default.yaml`, text.replace(/^shutdown:.*\n/m, ""));
  assert.equal((await loadConfig(`${dir}/default.yaml`, {})).shutdown.drainDelayMs, 1000);
  await Deno.writeTextFile(
    `${dir}/bad.yaml`,
    text.replace("drain_delay_ms: 0", "drain_delay_ms: -5"),
  );
  await assert.rejects(
    loadConfig(`${dir}/bad.yaml`, {}),
    /bad\.yaml:4:\d+ shutdown\.drain_delay_ms: expected an integer between 0 and 120000/,
  );
  const fromEnv = await loadConfig(`${dir}/default.yaml`, { AOT_SHUTDOWN__DRAIN_DELAY_MS: "0" });
  assert.equal(fromEnv.shutdown.drainDelayMs, 0);
});
