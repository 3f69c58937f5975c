/**
 * What the packaging tests (compile, Dockerfile) share: a temp dir holding a
 * third-party plugin and a config that uses it beside a built-in provider,
 * a gateway process run until a check is done, and the check that both
 * providers authenticate.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { waitForPort } from "../support/system.ts";

/** Writes `plugins/one_key.ts` and a `config.yaml` serving on `port` with `extraYaml` appended. */
export async function writeGatewaySetup(
  dir: string,
  port: number,
  name: string,
  extraYaml = "",
): Promise<void> {
  await Deno.mkdir(`${dir}/plugins`);
  // A third-party plugin outside the gateway's code, importing only the bare specifier
  // `@authotron/plugin`, which the gateway resolves wherever the plugin lives.
  await Deno.writeTextFile(
    `${dir}/plugins/one_key.ts`,
    `import { defineProvider, timingSafeEqual } from "@authotron/plugin";

export default defineProvider<{ key: string }>({
  scheme: "Bearer",
  parseOptions: (options) => ({ key: String(options.key) }),
  create: ({ key }) => ({
    authenticate: (c) => (timingSafeEqual(c, key) ? { username: "robot" } : undefined),
  }),
});
`,
  );
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `version: "2.0.0"
server: { host: 127.0.0.1, port: ${port} }
metrics: { enabled: false }
store: { enabled: false }
services: []
jwt: { iss: ${name}-test, exp: 60, secret: ${name}-test-secret-at-least-32-bytes }
logging: { level: warn, format: json }
providers:
  - { type: plain, name: people, realm: demo, users: [{ username: alice, password: pw }] }
  - { module: ./plugins/one_key.ts, name: robots, realm: robots, key: the-key }
${extraYaml}`,
  );
}

/**
 * Spawns `command` (stdout and stderr piped), waits up to 60 s for `port`,
 * runs `check`, stops the process and returns its output.
 */
export async function whileServing(
  command: Deno.Command,
  port: number,
  label: string,
  check: () => Promise<void>,
): Promise<Deno.CommandOutput> {
  const child = command.spawn();
  const output = child.output();
  let exited = false;
  child.status.then(() => exited = true);
  try {
    await waitForPort(port, 60_000, {
      get exited() {
        return exited;
      },
      command: label,
      logTail: async () => new TextDecoder().decode((await output).stderr),
    });
    await check();
  } finally {
    if (!exited) child.kill("SIGTERM");
  }
  return await output;
}

/** Asserts that `/authenticate` on `port` answers 200 to alice's Basic login and to the plugin's key. */
export async function assertBothProvidersAuthenticate(port: number): Promise<void> {
  for (const authorization of [basicAuth("alice:pw"), "Bearer the-key"]) {
    const res = await fetch(`http://127.0.0.1:${port}/authenticate`, {
      headers: { authorization },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200, authorization.split(" ")[0]);
  }
}
