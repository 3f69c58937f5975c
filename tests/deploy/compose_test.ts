/**
 * deploy/compose.yaml. Docker is not run by these tests: the first test checks
 * that every image, port, path and command in the file agrees with the
 * Dockerfile, examples/nginx/nginx.conf and the gateway's config; the second
 * runs what the containers would run, on 127.0.0.1 — the nginx service's
 * shell command (rendering the example config and starting NGINX with the
 * file's arguments), two gateway replicas with the image's CMD and the
 * compose environment, the gateway's health check, a real PostgreSQL — with
 * each service name mapped to a local port, and sends requests through NGINX.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { VERSION } from "../../lib/config/types.ts";
import {
  imageEnv,
  imageHealthcheck,
  mapPaths,
  ROOT,
  runHealthcheck,
} from "../support/dockerfile.ts";
import { startNginx } from "../support/nginx.ts";
import { startPostgres } from "../support/postgres.ts";
import { freePort, removeDir, requireBinary, run, systemTest, tempDir } from "../support/system.ts";
import { startJwtBackend } from "../ingress/jwt_backend.ts";
import {
  ALICE,
  assertTokenWorksAcrossReplicas,
  at,
  DEPLOY,
  type Doc,
  type Replica,
  status,
  TEST_PROVIDERS,
  withReplicas,
} from "./helpers.ts";

interface Service {
  image: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  volumes?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas: number };
  read_only?: boolean;
}

const COMPOSE = parse(await Deno.readTextFile(`${DEPLOY}/compose.yaml`)) as Doc;
const SERVICES = at<Record<string, Service>>(COMPOSE, "services");
const EXAMPLE_NGINX = await Deno.readTextFile(`${ROOT}/examples/nginx/nginx.conf`);

function service(name: string): Service {
  const found = SERVICES[name];
  assert.ok(found, `service ${name}`);
  return found;
}

/** Compose's `${NAME}` / `${NAME:?message}` interpolation with `values`; unset is an error. */
function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_, name: string) => {
    assert.ok(name in values, `${name} must be set`);
    return values[name]!;
  });
}

/** A bind mount `source:target[:ro]` with the source resolved against deploy/. */
function bindMount(spec: string): { source: string; target: string; readOnly: boolean } {
  const [source, target, mode] = spec.split(":");
  return {
    source: new URL(source!, `file://${DEPLOY}/`).pathname,
    target: target!,
    readOnly: mode === "ro",
  };
}

/** The gateway's config file (the compose bind mount's source), parsed. */
async function gatewayConfig(): Promise<{ path: string; config: Doc }> {
  const gateway = service("gateway");
  const mount = gateway.volumes!.map(bindMount)
    .find((m) => m.target === imageEnv().AOT_CONFIG_PATH);
  assert.ok(mount, `a volume mounts the image's AOT_CONFIG_PATH ${imageEnv().AOT_CONFIG_PATH}`);
  return { path: mount.source, config: parse(await Deno.readTextFile(mount.source)) as Doc };
}

/** The nginx service's shell script (`sh -c SCRIPT`). */
function nginxScript(): string {
  const command = service("nginx").command!;
  assert.deepEqual(command.slice(0, 2), ["sh", "-c"]);
  return command[2]!;
}

/** The `sed -e '/PATTERN/d'` line deletions of the nginx script. */
function sedDeletes(script: string): RegExp[] {
  return [...script.matchAll(/-e '\/(.+?)\/d'/g)].map(([, pattern]) => new RegExp(pattern!));
}

/** The `sed -e 's/FROM/TO/'` pairs of the nginx script (any delimiter, e.g. `s|A|B|`). */
function sedPairs(script: string): [RegExp, string][] {
  return [...script.matchAll(/-e 's(.)(.+?)\1(.+?)\1'/g)]
    .map(([, , from, to]) => [new RegExp(from!, "gm"), to!]);
}

function postgresUri(environment: Record<string, string>): URL {
  return new URL(interpolate(environment.AOT_STORE__URI!, { POSTGRES_PASSWORD: "pw" }));
}

Deno.test("deploy/compose.yaml: images, ports, paths and commands match the Dockerfile, the NGINX example and the config", async () => {
  assert.deepEqual(Object.keys(SERVICES).sort(), ["backend", "gateway", "nginx", "postgres"]);

  // gateway: this repository's Dockerfile, tagged with VERSION, 2 replicas, nothing published.
  const gateway = service("gateway");
  assert.equal(new URL(`${gateway.build!.context}/`, `file://${DEPLOY}/`).pathname, `${ROOT}/`);
  await Deno.stat(`${ROOT}/${gateway.build!.dockerfile}`);
  assert.equal(gateway.image, `authotron:${VERSION}`);
  assert.equal(gateway.deploy?.replicas, 2);
  assert.equal(gateway.ports, undefined, "only NGINX is reachable from outside");
  assert.equal(gateway.read_only, true);
  const { path, config } = await gatewayConfig();
  assert.ok(path.startsWith(`${DEPLOY}/`), path);
  assert.ok(gateway.volumes!.map(bindMount).every((m) => m.readOnly));
  assert.equal(at(config, "server.host"), "0.0.0.0");
  const port = at<number>(config, "server.port");
  // Health check: the Dockerfile's HEALTHCHECK command, on /ready.
  const dockerCheck = imageHealthcheck();
  assert.deepEqual(gateway.healthcheck!.test, [
    "CMD",
    ...dockerCheck.map((arg) => arg.replace(/\/health$/, "/ready")),
  ]);
  assert.ok(gateway.healthcheck!.test.at(-1)!.endsWith(`127.0.0.1:${port}/ready`));
  // Secrets come from the environment, never from the mounted file.
  assert.deepEqual(Object.keys(gateway.environment!).sort(), ["AOT_JWT__SECRET", "AOT_STORE__URI"]);
  assert.equal(at(config, "jwt.secret"), undefined);
  assert.equal(at(config, "store.uri"), undefined);
  assert.equal(at(config, "store.type"), "postgres");
  assert.equal(gateway.depends_on?.postgres?.condition, "service_healthy");

  // postgres: what AOT_STORE__URI names.
  const postgres = service("postgres");
  assert.match(postgres.image, /^postgres:\d+$/);
  const uri = postgresUri(gateway.environment!);
  assert.equal(uri.host, "postgres:5432");
  assert.equal(uri.username, postgres.environment!.POSTGRES_USER);
  assert.equal(uri.pathname, `/${postgres.environment!.POSTGRES_DB}`);
  assert.equal(
    gateway.environment!.AOT_STORE__URI!.match(/\$\{(\w+)/)![1],
    postgres.environment!.POSTGRES_PASSWORD!.match(/\$\{(\w+)/)![1],
  );
  assert.deepEqual(postgres.healthcheck!.test, [
    "CMD",
    "pg_isready",
    "-U",
    uri.username,
    "-d",
    postgres.environment!.POSTGRES_DB,
  ]);

  // nginx: the example config, every placeholder filled, listening on the published port.
  const nginx = service("nginx");
  assert.match(nginx.image, /^nginx:\d+\.\d+$/);
  const [mount] = nginx.volumes!.map(bindMount);
  assert.equal(mount!.source, `${ROOT}/examples/nginx/nginx.conf`);
  const script = nginxScript();
  assert.ok(script.includes(mount!.target), "the script reads the mounted example");
  let rendered = EXAMPLE_NGINX;
  for (const [from, to] of sedPairs(script)) rendered = rendered.replace(from, to);
  for (const pattern of sedDeletes(script)) {
    rendered = rendered.split("\n").filter((line) => !pattern.test(line)).join("\n");
  }
  const directives = rendered.replace(/#.*$/gm, "");
  assert.deepEqual(directives.match(/@[A-Z_]+@/g), null, "every placeholder is replaced");
  const published = nginx.ports!.map((p) => Number(p.split(":").at(-1)));
  const listens = [...directives.matchAll(/listen\s+(?:[\d.]+:)?(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(listens, published);
  assert.match(directives, new RegExp(`server gateway:${port}[\\s;]`), "NGINX calls server.port");
  assert.equal(nginx.depends_on?.gateway?.condition, "service_healthy");
  // `-p PREFIX` needs PREFIX/tmp for the example's temp paths.
  const prefix = script.match(/nginx -p (\S+?)\/? /)![1]!;
  assert.ok(script.includes(`mkdir -p ${prefix}/tmp`), `${prefix}/tmp is created`);
  assert.ok(rendered.includes("client_body_temp_path tmp/"), "temp paths are under the prefix");
  assert.match(directives, /^error_log \/dev\/stderr/m, "errors go to the container's output");
  assert.match(directives, /access_log \/dev\/stdout;/, "requests go to the container's output");
});

systemTest(
  "deploy/compose.yaml's commands, run on 127.0.0.1: NGINX → 2 gateway replicas → backend, tokens in PostgreSQL",
  ["nginx", "initdb", "postgres"],
  async () => {
    const gateway = service("gateway");
    const { config } = await gatewayConfig();
    const secret = "compose-test-secret-at-least-32-bytes-long";
    await using pg = await startPostgres();
    await using backend = startJwtBackend(secret, at<string>(config, "jwt.iss"));
    const etc = await tempDir("compose");
    try {
      // The gateway container's /etc/authotron/config.yaml is the bind mount's source.
      const { path } = await gatewayConfig();
      await Deno.copyFile(path, mapPaths(imageEnv().AOT_CONFIG_PATH!, etc));
      const environment: Record<string, string> = {};
      for (const [name, value] of Object.entries(gateway.environment!)) {
        environment[name] = interpolate(value, {
          AOT_JWT__SECRET: secret,
          POSTGRES_PASSWORD: "unused",
        });
      }
      environment.AOT_STORE__URI = pg.uri; // postgres:5432 is this test's PostgreSQL
      const replicas: Replica[] = [0, 1].map(() => {
        const port = freePort();
        return {
          port,
          env: {
            ...environment,
            AOT_SERVER__HOST: "127.0.0.1",
            AOT_SERVER__PORT: String(port),
            AOT_METRICS__PORT: String(freePort()),
            AOT_PROVIDERS: TEST_PROVIDERS,
          },
        };
      });
      const containerPort = at<number>(config, "server.port");
      await withReplicas(etc, replicas, async () => {
        for (const replica of replicas) {
          const check = gateway.healthcheck!.test.slice(1);
          assert.equal(await runHealthcheck(check, containerPort, replica.port), 0);
        }
        await assertTokenWorksAcrossReplicas(replicas[0]!.port, replicas[1]!.port);
        await throughNginx(replicas, containerPort, backend.hostPort);
      });
      assert.equal(backend.rejected(), 0, "the backend only ever saw the gateway's JWT");
    } finally {
      await removeDir(etc);
    }
  },
);

/**
 * Runs the nginx service's command with its paths and service names mapped
 * (first as `nginx -t`, to check the rendered file with the command's own
 * arguments), then serves the rendered file and sends requests through it.
 */
async function throughNginx(
  replicas: readonly Replica[],
  containerPort: number,
  backendHostPort: string,
): Promise<void> {
  const dir = await tempDir("compose-nginx");
  try {
    await Deno.chmod(dir, 0o755); // workers run as `nobody` when the test runs as root
    const nginx = requireBinary("nginx");
    const [mount] = service("nginx").volumes!.map(bindMount);
    const published = Number(service("nginx").ports![0]!.split(":").at(-1));
    const port = freePort();
    const script = nginxScript()
      .replaceAll(mount!.target, mount!.source)
      .replaceAll("/tmp/nginx", dir)
      .replaceAll(`0.0.0.0:${published}`, `127.0.0.1:${port}`)
      // Docker's DNS answers `gateway` with every replica's address.
      .replaceAll(
        `gateway:${containerPort}`,
        replicas.map((r) => `127.0.0.1:${r.port}`).join("; server "),
      )
      .replaceAll("backend:8080", backendHostPort)
      .replace("exec nginx ", `exec ${nginx} -t -q `);
    await run("sh", ["-c", script]);
    const rendered = await Deno.readTextFile(`${dir}/nginx.conf`);
    await using proxy = await startNginx(rendered);
    const anonymous = await fetch(`${proxy.url}/anything`);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /Basic realm="demo"/);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${proxy.url}/anything`, { headers: { authorization: ALICE } });
      const echo = await res.json();
      assert.equal(res.status, 200);
      assert.equal(echo.username, "alice");
    }
    assert.equal(await status(`${proxy.url}/robots/x`, { headers: { authorization: ALICE } }), 401);
  } finally {
    await removeDir(dir);
  }
}
