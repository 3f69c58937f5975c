/**
 * `deno run -A bench/cold_profile.ts`: where an uncached decision's time goes.
 * Builds the gateway of the `basic-cold` bench case in this process
 * (`decision_cache_ttl_ms: 0`, Basic on `plain`) and times, per call over many
 * calls, the whole `/authenticate` handler and each of its stages alone, in
 * CPU time of this process (all threads; steadier than wall time on a busy
 * machine). In-process figures: the served gateway pays roughly twice as much CPU per
 * microsecond (cold caches between requests, the HTTP stack); compare stages,
 * not absolute numbers.
 *
 * @module
 */

import { loadConfig } from "../lib/config/load.ts";
import { createGateway } from "../lib/gateway.ts";
import { type ProviderSlot, raceProviders } from "../lib/auth/provider_race.ts";
import plain from "../providers/plain.ts";
import { BENCH_BASIC, BENCH_PASSWORD, gatewayYaml, PLAIN_PROVIDER } from "./cases.ts";

function print(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

/** CPU seconds this process used so far (all threads, user + system). */
function cpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `fn` `n` times after as many warm-up calls (JIT and heap settle; a shorter
 * warm-up inflated the first line), and prints the process CPU µs per call.
 */
async function time(label: string, n: number, fn: () => unknown): Promise<void> {
  for (let i = 0; i < n; i++) await fn();
  const cpu = cpuSeconds();
  for (let i = 0; i < n; i++) await fn();
  const us = (cpuSeconds() - cpu) * 1e6 / n;
  print(`${label.padEnd(52)} ${us.toFixed(1).padStart(6)} µs CPU`);
}

const dir = await Deno.makeTempDir({ prefix: "aot-profile-" });
try {
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    gatewayYaml(0, `auth: { decision_cache_ttl_ms: 0 }\nproviders:\n${PLAIN_PROVIDER}`),
  );
  const config = await loadConfig(path, {});
  await using gateway = await createGateway(config, { env: {} });
  const info = {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  const request = () =>
    new Request("http://127.0.0.1/authenticate", { headers: { authorization: BENCH_BASIC } });
  const n = Number(Deno.args[0] ?? 20000);
  const outcome = await gateway.pipeline.authenticate(BENCH_BASIC, undefined, "127.0.0.1");
  if (!outcome.ok) throw new Error("the bench user was not accepted");
  const user = outcome.user;
  await time("whole handler (GET /authenticate, no cache)", n, async () => {
    const res = await gateway.appHandler(request(), info);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
  });
  await time("  new Request (the runtime builds it when served)", n, request);
  await time(
    "  GET /health (router, HTTP metrics; no decision)",
    n,
    () => gateway.appHandler(new Request("http://127.0.0.1/health"), info),
  );
  await time(
    "  no Authorization: 401 (router, headers, challenge)",
    n,
    () => gateway.appHandler(new Request("http://127.0.0.1/authenticate"), info),
  );
  await time(
    "  pipeline.authenticate (parse, race, metrics)",
    n,
    () => gateway.pipeline.authenticate(BENCH_BASIC, undefined, "127.0.0.1"),
  );
  // The same provider as the gateway's, outside it: its own call and a one-provider race.
  const slot: ProviderSlot = {
    name: "local",
    scheme: "Basic",
    realm: "bench",
    filterRealm: "bench",
    provider: await plain.create(
      plain.parseOptions!({ users: [{ username: "bench", password: BENCH_PASSWORD }] }),
      // deno-lint-ignore no-explicit-any
      {} as any,
    ),
    labels: { name: "local", scheme: "Basic", realm: "bench" },
    log: gateway.log,
  };
  const credential = BENCH_BASIC.slice("Basic ".length);
  const signal = new AbortController().signal;
  await time(
    "    throttle.check (limits keyed on address+user)",
    n,
    () => gateway.throttle.check("127.0.0.1", BENCH_BASIC),
  );
  await time(
    "    the plain provider's authenticate alone",
    n,
    () => slot.provider.authenticate(credential, { signal, log: slot.log, realmHint: undefined }),
  );
  await time(
    "    raceProviders (timer, span, metrics, provider)",
    n,
    () =>
      raceProviders([slot], credential, undefined, { timeoutMs: 5000, metrics: gateway.metrics }),
  );
  await time("  issuer.issue (sign the JWT)", n, () => gateway.issuer.issue(user));
  // With the real token (a few hundred header bytes to validate), built as the handler does.
  const bearer = `Bearer ${await gateway.issuer.issue(user)}`;
  const body = new TextEncoder().encode("Authenticated successfully");
  await time("  build the 200 response (body, then the header)", n, () => {
    const response = new Response(body);
    response.headers.set("authorization", bearer);
    return response;
  });
  await time(
    "  the same with the header in the init (before)",
    n,
    () => new Response(body, { headers: { authorization: bearer } }),
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
