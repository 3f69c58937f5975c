/**
 * Starts a real gateway for a test: writes the YAML (and any extra files) to
 * a temporary directory, loads it as `main.ts` would, serves it on 127.0.0.1
 * with ports chosen by the OS, and captures every log line.
 *
 * @module
 */

import { loadConfig } from "../../lib/config/load.ts";
import { createGateway, type Gateway } from "../../lib/gateway.ts";
import { type RunningGateway, serveGateway } from "../../lib/server.ts";

/** A gateway serving for one test. */
export interface TestGateway extends AsyncDisposable {
  /** Base URL of the application listener, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Base URL of the metrics listener, when enabled. */
  readonly metricsUrl: string | undefined;
  /** Every log line so far. */
  readonly logs: string[];
  /** The temp directory holding the config. */
  readonly dir: string;
  /** The assembled gateway. */
  readonly gateway: Gateway;
  /** The listeners. */
  readonly running: RunningGateway;
  /** `fetch(url + path)`, reading the body so no resource leaks. */
  request(path: string, init?: RequestInit): Promise<{ res: Response; body: string }>;
}

/** Options of {@link startGateway}. */
export interface StartOptions {
  /** Environment the config loader sees (default: none). */
  readonly env?: Record<string, string>;
  /** Extra files written next to the config (name → content). */
  readonly files?: Record<string, string>;
}

/** Serves `yaml` (which should use port 0 for both listeners). */
export async function startGateway(yaml: string, options: StartOptions = {}): Promise<TestGateway> {
  const dir = await Deno.makeTempDir({ prefix: "aot-test-" });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await Deno.writeTextFile(`${dir}/${name}`, content);
  }
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, yaml);
  const config = await loadConfig(path, options.env ?? {});
  const logs: string[] = [];
  const gateway = await createGateway(config, {
    env: options.env ?? {},
    logger: { sink: (line) => logs.push(line) },
  });
  const running = serveGateway(gateway);
  const url = `http://127.0.0.1:${running.appAddr.port}`;
  const metricsUrl = running.metricsAddr && `http://127.0.0.1:${running.metricsAddr.port}`;
  return {
    url,
    metricsUrl,
    logs,
    dir,
    gateway,
    running,
    async request(target, init) {
      const res = await fetch(target.startsWith("http") ? target : url + target, init);
      return { res, body: await res.text() };
    },
    async [Symbol.asyncDispose]() {
      await running.shutdown({ drainDelayMs: 0 });
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A v2 config with both listeners on port 0 and the given extra YAML appended. */
export function testConfig(
  extra: string,
  overrides: { logging?: string; store?: string } = {},
): string {
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: true, port: 0 }
store: ${overrides.store ?? "{ enabled: false }"}
services: []
jwt: { iss: authotron-test, exp: 3600, secret: test-secret-that-is-long-enough-32b }
logging: ${overrides.logging ?? "{ level: debug, format: json }"}
${extra}`;
}

/** The `Authorization` value for Basic `user:password`. */
export function basicAuth(userPass: string): string {
  return "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(userPass)));
}
