// Drives the gateway at DEBUG level, in JSON and console log formats, with
// distinctive secrets through every built-in provider (and through a remote,
// upstream-calling fixture for the host's upstream paths), on success and
// failure paths, then asserts that no secret appears in any log line, in
// /status or in /metrics (spec 11 "never logged", security.md H04, M03).
//
// Adding a provider = adding one entry to CASES. The coverage test at the end
// fails when a file in providers/ has no entry.
import assert from "node:assert/strict";
import { hashPassword } from "../../providers/_password_hash.ts";
import { basicAuth, startGateway } from "../support/gateway.ts";
import { authenticate, closedPort, FIXTURES, startUpstream } from "./helpers.ts";

/** One request of a scenario and the status it must get. */
interface Step {
  readonly authorization: string;
  readonly realm?: string;
  readonly status: number;
}

/** A prepared scenario: provider YAML, traffic, and every secret in play. */
interface Scenario extends AsyncDisposable {
  readonly providers: string;
  readonly steps: readonly Step[];
  readonly secrets: readonly string[];
}

/** One table entry. `covers` names the built-in provider type it exercises. */
interface LeakCase {
  readonly name: string;
  readonly covers?: string;
  setup(): Promise<Scenario>;
}

const JWT_SECRET = "jwt-signing-secret-0f9e8d7c6b5a4a3b2c1d";
const noop = () => Promise.resolve();

/** Every Basic secret that travels: the password, base64 text and header value. */
function basicSecrets(userPass: string): string[] {
  const header = basicAuth(userPass);
  return [userPass.slice(userPass.indexOf(":") + 1), header, header.slice("Basic ".length)];
}

const CASES: LeakCase[] = [
  {
    name: "plain (password and password_hash)",
    covers: "plain",
    async setup() {
      const hash = await hashPassword("hashed-pw-5d2e8b41", 1000);
      const good = ["alice:plain-pw-7f3a9c12", "bob:hashed-pw-5d2e8b41"];
      const bad = [
        "alice:wrong-pw-91bc44aa",
        "bob:wrong-hash-pw-3e7f0c",
        "nobody:unknown-pw-11aa22",
        "alice:", // empty password
      ];
      const four = ["a1", "a2", "a3", "a4"].map((p) => basicAuth(`alice:${p}-too-many-secret`));
      return {
        providers: `
  - type: plain
    name: local
    realm: default
    users:
      - { username: alice, password: plain-pw-7f3a9c12, roles: [reader] }
      - { username: bob, password_hash: "${hash}", roles: [writer] }`,
        steps: [
          ...good.map((u) => ({ authorization: basicAuth(u), status: 200 })),
          ...bad.map((u) => ({ authorization: basicAuth(u), status: 401 })),
          { authorization: "Basic not-base64-secret-zz9", status: 401 },
          { authorization: `${basicAuth(bad[0])}, ${basicAuth(good[0])}`, status: 200 },
          { authorization: four.join(", "), status: 401 },
          { authorization: `${basicAuth(good[1])} trailing-secret-part`, status: 401 },
          { authorization: basicAuth(good[0]), realm: "elsewhere", status: 401 },
        ],
        secrets: [
          ...[...good, ...bad.slice(0, 3)].flatMap(basicSecrets),
          "not-base64-secret-zz9",
          "too-many-secret",
          "trailing-secret-part",
          hash,
        ],
        [Symbol.asyncDispose]: noop,
      };
    },
  },
  {
    name: "remote Bearer fixture (upstream 200/401/500/refused, token in query and header)",
    async setup() {
      const upstream = startUpstream({ "remote-token-good-8c1d": "carol" });
      const dead = `http://127.0.0.1:${await closedPort()}/check`;
      return {
        providers: `
  - { module: ${FIXTURES}observable_bearer.ts, name: remote, realm: r, upstream: "${upstream.url}",
      jwks: [{ uri: "https://idp.example/jwks", age_seconds: 1, last_error: null, keys: 1 }] }
  - { module: ${FIXTURES}observable_bearer.ts, name: dead, realm: d, upstream: "${dead}" }`,
        steps: [
          { authorization: "Bearer remote-token-good-8c1d", realm: "r", status: 200 },
          { authorization: "Bearer remote-token-bad-77aa", realm: "r", status: 401 },
          { authorization: "Bearer boom-remote-token-2f3e", realm: "r", status: 503 },
          { authorization: "Bearer dead-remote-token-55cc", realm: "d", status: 503 },
          { authorization: "Bearer any-remote-token-9911", status: 503 },
        ],
        secrets: [
          "remote-token-good-8c1d",
          "remote-token-bad-77aa",
          "boom-remote-token-2f3e",
          "dead-remote-token-55cc",
          "any-remote-token-9911",
        ],
        [Symbol.asyncDispose]: () => upstream[Symbol.asyncDispose](),
      };
    },
  },
];

function config(providers: string, format: "json" | "console"): string {
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: true, port: 0 }
store: { enabled: false }
services: []
jwt: { iss: authotron-test, exp: 3600, secret: ${JWT_SECRET} }
logging: { level: debug, format: ${format} }
auth: { timeout_in_ms: 2000 }
providers:${providers}
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: extra, realm: default, roles: [extra] }
`;
}

for (const leakCase of CASES) {
  for (const format of ["json", "console"] as const) {
    Deno.test(`secret leak: ${leakCase.name}, ${format} logs at debug`, async () => {
      await using scenario = await leakCase.setup();
      await using gw = await startGateway(config(scenario.providers, format));
      const secrets = [...scenario.secrets, JWT_SECRET];
      for (const step of scenario.steps) {
        secrets.push(step.authorization);
        const res = await authenticate(gw.url, step.authorization, step.realm);
        assert.equal(res.status, step.status, `${step.authorization} → ${res.status}`);
        const issued = res.headers.get("authorization");
        if (issued !== null) {
          secrets.push(issued, issued.slice("Bearer ".length));
          // the issued JWT sent back is a received JWT: rejected, and never logged
          const back = await authenticate(gw.url, issued);
          assert.ok(back.status === 401 || back.status === 503);
        }
      }
      assert.ok(gw.logs.some((l) => l.includes("auth.provider")), "debug events were captured");
      const surfaces = {
        logs: gw.logs.join("\n"),
        status: (await gw.request(`${gw.metricsUrl}/status`)).body,
        metrics: (await gw.request(`${gw.metricsUrl}/metrics`)).body,
      };
      for (const [where, text] of Object.entries(surfaces)) {
        for (const secret of secrets) {
          assert.ok(!text.includes(secret), `${where} contains the secret ${secret}`);
        }
      }
    });
  }
}

Deno.test("secret leak: every built-in provider in providers/ has a CASES entry", async () => {
  const types: string[] = [];
  for await (const entry of Deno.readDir(new URL("../../providers/", import.meta.url))) {
    if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.startsWith("_")) {
      types.push(entry.name.slice(0, -3).replaceAll("_", "-"));
    }
  }
  const covered = new Set(CASES.map((c) => c.covers));
  assert.ok(types.length > 0);
  for (const type of types.sort()) {
    assert.ok(covered.has(type), `providers/${type}: add a CASES entry in this file`);
  }
});
