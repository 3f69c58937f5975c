import assert from "node:assert/strict";
import { parseWrk, wrkDriver } from "../../bench/load.ts";
import { systemTest } from "../support/system.ts";
import { connectionIds, hasSs } from "../../bench/connections.ts";
import { parseOptions } from "../../bench/options.ts";
import { plateauVerdict } from "../../bench/flood.ts";
import { startBaseline } from "../../bench/procs.ts";
import { formatReport, type Report } from "../../bench/report.ts";

const RUN = new URL("../../bench/run.ts", import.meta.url).pathname;

async function bench(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", RUN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("bench/run.ts --help prints the usage and exits 0; a bad option exits 2", async () => {
  const help = await bench("--help");
  assert.equal(help.code, 0);
  assert.match(help.text, /deno task bench \[options\]/);
  assert.match(help.text, /--flood/);
  const bad = await bench("--no-such-option");
  assert.equal(bad.code, 2);
  assert.match(bad.text, /unknown option --no-such-option/);
});

Deno.test("parseOptions() defaults and overrides", () => {
  const defaults = parseOptions([]);
  assert.equal(defaults.connections, 50);
  assert.equal(defaults.rounds, 5);
  assert.equal(defaults.duration, 3);
  assert.equal(defaults.floodRequests, 1_000_000);
  const set = parseOptions([
    "--duration",
    "2",
    "--case",
    "basic",
    "--case",
    "jwt",
    "--out",
    "x.json",
  ]);
  assert.equal(set.duration, 2);
  assert.deepEqual(set.cases, ["basic", "jwt"]);
  assert.equal(set.out, "x.json");
  assert.match(parseOptions(["--json"]).out!, /^bench\/results\/.+\.json$/);
  assert.throws(() => parseOptions(["--rounds", "0"]), /--rounds needs a positive number/);
});

Deno.test("parseWrk() reads requests/s and the latency percentiles", () => {
  const result = parseWrk(`Running 5s test @ http://127.0.0.1:8080/authenticate
  1 threads and 50 connections
  Latency Distribution
     50%  693.00us
     75%    1.06ms
     90%    1.52ms
     99%    2.90ms
  150000 requests in 5.00s, 20.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:  30000.12
`);
  assert.equal(result.requests, 150000);
  assert.equal(result.rps, 30000.12);
  assert.ok(Math.abs(result.p50 - 0.693) < 1e-9);
  assert.ok(Math.abs(result.p99 - 2.9) < 1e-9);
  assert.deepEqual(result.statuses, { "non-2xx/3xx": 7 });
});

Deno.test("formatReport() prints one ratio line per case and the skipped cases", () => {
  const row = {
    path: "/authenticate",
    p50: 1,
    p99: 2,
    cpuUs: 10,
    peakRss: 1048576,
    rounds: { rps: [], baselineRps: [] },
  };
  const report: Report = {
    date: "now",
    loadGenerator: "builtin",
    settings: { connections: 50, duration: 5, warmup: 2, rounds: 3 },
    machine: { cpus: 2, loadavgBefore: "0", loadavgAfter: "0", deno: "2" },
    rows: [
      { ...row, name: "baseline", path: "bare Deno.serve", rps: 1000, ratio: 1 },
      { ...row, name: "basic", rps: 620, ratio: 0.62 },
    ],
    skipped: [{ name: "jwt", reason: "needs providers/jwt.ts" }],
  };
  const text = formatReport(report);
  assert.match(text, /^basic \/authenticate ratio 0\.62$/m);
  assert.match(text, /^case jwt: skipped \(needs providers\/jwt\.ts\)$/m);
  assert.doesNotMatch(text, /^baseline .* ratio/m);
});

Deno.test("plateauVerdict() accepts a level RSS and flags steady growth", () => {
  const mib = 1048576;
  const flat = [0, 1, 2, 3, 4].map((i) => ({ done: i * 250, rss: (60 + (i % 2)) * mib }));
  assert.equal(plateauVerdict(flat, 1000).plateaued, true);
  const growing = [0, 1, 2, 3, 4].map((i) => ({ done: i * 250, rss: (60 + i * 40) * mib }));
  assert.equal(plateauVerdict(growing, 1000).plateaued, false);
});

Deno.test("the reference servers: bare answers a short header, floor a JWT-sized one", async () => {
  for (const mode of ["bare", "floor"] as const) {
    await using server = await startBaseline(mode);
    const url = `http://127.0.0.1:${server.port}/authenticate`;
    const res = await fetch(url, { headers: { authorization: "Basic YTpi" } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Authenticated successfully");
    const token = res.headers.get("authorization") ?? "";
    assert.match(token, /^Bearer /);
    assert.ok(
      mode === "bare" ? token.length < 100 : token.length === 368,
      `${mode}: ${token.length}`,
    );
    if (mode === "floor") {
      const missing = await fetch(url);
      await missing.body?.cancel();
      assert.equal(missing.status, 401, "the floor reads the Authorization header");
    }
  }
});

Deno.test("formatReport() shows connections and hit rate, and no ratio line for a reference row", () => {
  const row = {
    p50: 1,
    p99: 2,
    cpuUs: 10,
    peakRss: 0,
    rounds: { rps: [], baselineRps: [] },
  };
  const text = formatReport({
    date: "now",
    loadGenerator: "wrk",
    settings: { connections: 50, duration: 3, warmup: 2, rounds: 5 },
    machine: { cpus: 2, loadavgBefore: "0", loadavgAfter: "0", deno: "2" },
    rows: [
      {
        ...row,
        name: "nginx-ref",
        path: "nginx -> bare auth server",
        rps: 900,
        ratio: 1,
        reference: true,
        connsPer100: 0.1,
      },
      { ...row, name: "nginx", path: "nginx -> gateway", rps: 800, ratio: 0.89, connsPer100: 0.25 },
      { ...row, name: "many-users", path: "/authenticate", rps: 500, ratio: 0.5, hitRate: 0.64 },
    ],
    skipped: [],
  });
  assert.match(text, /^nginx nginx -> gateway ratio 0\.89$/m);
  assert.match(text, /^many-users \/authenticate ratio 0\.50$/m);
  assert.doesNotMatch(text, /^nginx-ref .* ratio/m);
  assert.match(text, /\| nginx +\| nginx -> gateway .*\| +0\.25 \| +— \|/);
  assert.match(text, /\| +64% \|/);
});

Deno.test("connectionIds() sees a connection to a port, also once it is closed (TIME-WAIT)", async () => {
  if (!(await hasSs())) {
    assert.fail("ss (iproute2) is needed to count connections");
  }
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("x"),
  );
  const port = server.addr.port;
  const before = await connectionIds([port]);
  for (let i = 0; i < 3; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    await conn.read(new Uint8Array(1024));
    conn.close();
  }
  const after = await connectionIds([port]);
  assert.ok(before && after);
  assert.equal([...after].filter((id) => !before.has(id)).length, 3);
});

systemTest("wrkDriver with a file of values sends each request one of them", ["wrk"], async () => {
  const seen = new Map<string, number>();
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const value = req.headers.get("authorization") ?? "(none)";
    seen.set(value, (seen.get(value) ?? 0) + 1);
    return new Response("x");
  });
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "Basic one\nBasic two\nBearer three\n");
    const result = await wrkDriver({
      host: "127.0.0.1",
      port: server.addr.port,
      path: "/",
      headers: { "x-other": "kept" },
      authorizationsFile: file,
      connections: 2,
      durationS: 1,
    });
    assert.ok(result.requests > 30, `${result.requests} requests`);
    assert.deepEqual([...seen.keys()].sort(), ["Basic one", "Basic two", "Bearer three"]);
    for (const count of seen.values()) assert.ok(count > result.requests / 6, `${count}`);
  } finally {
    await Deno.remove(file);
  }
});
