import assert from "node:assert/strict";
import { parseWrk } from "../../bench/load.ts";
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
