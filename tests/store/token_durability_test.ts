/**
 * Nothing acknowledged is lost: a token returned with 200 survives a
 * `kill -9` of the gateway process right after the response, for both
 * backends (and a crash of PostgreSQL itself).
 */
import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { startPostgres } from "../support/postgres.ts";
import { systemTest } from "../support/system.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ALICE = { authorization: basicAuth("alice:alice-pw") };

function config(store: string): string {
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: false }
store: ${store}
services: []
jwt: { iss: i, exp: 60, secret: test-secret-that-is-long-enough-32b }
logging: { level: info, format: json }
providers:
  - type: plain
    name: demo-users
    realm: demo
    users: [{ username: alice, password: alice-pw, roles: [user] }]
`;
}

/** A gateway process started from main.ts, with the permissions of `deno task start`. */
class GatewayProcess {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  readonly url: string;

  private constructor(child: Deno.ChildProcess, url: string, drained: Promise<void>) {
    this.#child = child;
    this.url = url;
    this.#drained = drained;
  }

  static async start(dir: string): Promise<GatewayProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", `--allow-write=${dir}`, MAIN],
      env: { NO_COLOR: "1", AOT_CONFIG_PATH: `${dir}/config.yaml` },
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = new Response(child.stderr).text();
    let seen = "";
    while (!seen.includes("startup.server.listening")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`gateway exited: ${seen}\n${await stderr}`);
      seen += value;
    }
    const line = seen.split("\n").find((l) => l.includes("startup.server.listening"))!;
    const port = JSON.parse(line).attributes.port;
    const drained = (async () => {
      while (!(await reader.read()).done) { /* keep the pipe flowing */ }
      await stderr;
    })();
    return new GatewayProcess(child, `http://127.0.0.1:${port}`, drained);
  }

  async kill9(): Promise<void> {
    this.#child.kill("SIGKILL");
    const status = await this.#child.status;
    await this.#drained;
    assert.equal(status.signal, "SIGKILL");
  }

  async stop(): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#child.status;
    await this.#drained;
  }
}

async function get(url: string, headers: Record<string, string>): Promise<Response> {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  return res;
}

/** Creates a token, kills the gateway at once, restarts it, and checks the token still works. */
async function createKillRestart(dir: string, between?: () => Promise<void>): Promise<void> {
  const first = await GatewayProcess.start(dir);
  let token: string;
  try {
    const res = await fetch(`${first.url}/token`, { headers: ALICE });
    assert.equal(res.status, 200);
    token = (await res.json()).token;
  } finally {
    await first.kill9();
  }
  await between?.();
  const second = await GatewayProcess.start(dir);
  try {
    const auth = await get(`${second.url}/authenticate`, { authorization: `Bearer ${token}` });
    assert.equal(auth.status, 200, "the acknowledged token survived kill -9");
  } finally {
    await second.stop();
  }
}

Deno.test("Deno KV: a token survives kill -9 of the gateway right after the 200", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-durable-kv-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, config("{ enabled: true }"));
    await createKillRestart(dir);
    assert.ok((await Deno.stat(`${dir}/data/tokens.kv`)).isFile, "default path ./data/tokens.kv");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

systemTest(
  "PostgreSQL: a token survives kill -9 of the gateway and of the database",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    const dir = await Deno.makeTempDir({ prefix: "aot-durable-pg-" });
    try {
      await Deno.writeTextFile(
        `${dir}/config.yaml`,
        config(`{ enabled: true, type: postgres, uri: "${pg.uri}" }`),
      );
      await createKillRestart(dir, async () => {
        await pg.kill9();
        await pg.start();
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
