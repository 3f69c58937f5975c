// Drives the gateway at DEBUG level, in JSON and console log formats, with
// distinctive secrets through every built-in provider (and through a remote,
// upstream-calling fixture for the host's upstream paths), on success and
// failure paths, then asserts that no secret appears in any log line, in
// /status, /metrics or /explain (spec 11 "never logged", security.md H04, M03).
//
// Adding a provider = adding one entry to CASES (the cases live in the
// leak_cases_*.ts modules next to this file). The coverage test at the end
// fails when a file in providers/ or augmenters/, or the token store, has no entry.
import assert from "node:assert/strict";
import { hashPassword } from "../../providers/_shared/password_hash.ts";
import { TOKEN_PROVIDER_NAME } from "../../lib/store/token_setup.ts";
import { basicAuth, startGateway } from "../support/gateway.ts";
import { systemTest } from "../support/system.ts";
import { authenticate, closedPort, FIXTURES, startUpstream } from "./helpers.ts";
import { basicSecrets, type LeakCase, noop, type Scenario } from "./leak_case.ts";
import { OPENID_OFFLINE_CASE, TOKEN_GENERATOR_CASE } from "./leak_cases_exchange.ts";
import { JWT_CASE } from "./leak_cases_jwt.ts";
import { LDAP_CASE } from "./leak_cases_ldap.ts";
import { TOKEN_STORE_CASE } from "./leak_cases_store.ts";
import { ECMWF_API_CASE, EFAS_API_CASE } from "./leak_cases_vendor.ts";

const JWT_SECRET = "jwt-signing-secret-0f9e8d7c6b5a4a3b2c1d";

const CASES: LeakCase[] = [
  {
    name: "plain (password and password_hash)",
    covers: ["providers/plain"],
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
  ECMWF_API_CASE,
  EFAS_API_CASE,
  OPENID_OFFLINE_CASE,
  TOKEN_GENERATOR_CASE,
  JWT_CASE,
  TOKEN_STORE_CASE,
  LDAP_CASE,
];

function config(scenario: Scenario, format: "json" | "console"): string {
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: true, port: 0 }
store: ${scenario.store ?? "{ enabled: false }"}
services: []
${scenario.jwt ?? `jwt: { iss: authotron-test, exp: 3600, secret: ${JWT_SECRET} }`}
logging: { level: debug, format: ${format} }
auth: { timeout_in_ms: 2000 }
providers:${scenario.providers}
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: extra, realm: default, roles: [extra] }${
    scenario.augmenters ?? ""
  }
`;
}

/** Length of the secret fragments searched for (catches truncated secrets). */
const FRAGMENT = 16;

/** A {@link FRAGMENT}-character piece of a secret that occurs in `text`, if any. */
function leakedFragment(text: string, secrets: readonly string[]): string | undefined {
  const pieces = new Set<string>();
  for (const secret of secrets) {
    for (let i = 0; i + FRAGMENT <= secret.length; i++) pieces.add(secret.slice(i, i + FRAGMENT));
  }
  for (let i = 0; i + FRAGMENT <= text.length; i++) {
    const piece = text.slice(i, i + FRAGMENT);
    if (pieces.has(piece)) return piece;
  }
  return undefined;
}

async function drive(leakCase: LeakCase, format: "json" | "console"): Promise<void> {
  await using scenario = await leakCase.setup();
  await using gw = await startGateway(config(scenario, format));
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
  await scenario.drive?.(gw, secrets);
  // /explain on every step's headers: its report must not carry a credential either.
  const explained: string[] = [];
  for (const step of scenario.steps) {
    const headers: Record<string, string> = { authorization: step.authorization };
    if (step.realm !== undefined) headers["x-auth-realm"] = step.realm;
    explained.push((await gw.request(`${gw.metricsUrl}/explain`, { headers })).body);
  }
  assert.ok(gw.logs.some((l) => l.includes("auth.provider")), "debug events were captured");
  const surfaces = {
    explain: explained.join("\n"),
    logs: gw.logs.join("\n"),
    status: (await gw.request(`${gw.metricsUrl}/status`)).body,
    metrics: (await gw.request(`${gw.metricsUrl}/metrics`)).body,
  };
  for (const secret of secrets) assert.ok(secret.length >= 8, `too short to search: ${secret}`);
  for (const [where, text] of Object.entries(surfaces)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${where} contains the secret ${secret}`);
    }
    const fragment = leakedFragment(text, secrets);
    assert.equal(fragment, undefined, `${where} contains part of a secret: ${fragment}`);
  }
}

for (const leakCase of CASES) {
  for (const format of ["json", "console"] as const) {
    const name = `secret leak: ${leakCase.name}, ${format} logs at debug`;
    if (leakCase.needs) systemTest(name, [...leakCase.needs], () => drive(leakCase, format));
    else Deno.test(name, () => drive(leakCase, format));
  }
}

Deno.test("secret leak: every built-in provider and augmenter, and the token store, has a CASES entry", async () => {
  const types: string[] = [TOKEN_PROVIDER_NAME];
  for (const dir of ["providers", "augmenters"]) {
    for await (const entry of Deno.readDir(new URL(`../../${dir}/`, import.meta.url))) {
      if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.startsWith("_")) {
        types.push(`${dir}/${entry.name.slice(0, -3).replaceAll("_", "-")}`);
      }
    }
  }
  const covered = new Set(CASES.flatMap((c) => c.covers ?? []));
  assert.ok(types.length > 3);
  for (const type of types.sort()) {
    assert.ok(covered.has(type), `${type}: add a CASES entry in this file`);
  }
});
