import assert from "node:assert/strict";
import { jwtVerify } from "jose";
import { Client } from "ldapts";
import { loadConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/util/errors.ts";
import { checkPlugins } from "../../lib/gateway.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { eventually, startSilentServer } from "../support/ldap_augmenter.ts";
import { startSlapd } from "../support/slapd.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";
import { freePort, systemTest } from "../support/system.ts";

const SECRET = new TextEncoder().encode("test-secret-that-is-long-enough-32b");

const PLAIN = `providers:
  - type: plain
    name: local
    realm: corp
    users:
      - { username: alice, password: alicepw, roles: [staff] }
      - { username: carol, password: carolpw }
`;

function ldapEntry(name: string, uri: string, extra = ""): string {
  return `  - type: ldap
    name: ${name}
    realm: corp
    uri: ${uri}
    search_base: dc=example,dc=org
    bind_dn: cn=gateway,ou=services,dc=example,dc=org
    ldap_password_file: ldap.secret
${extra}`;
}

async function rolesInJwt(res: Response): Promise<unknown> {
  const jwt = res.headers.get("authorization")?.replace(/^Bearer /, "");
  assert.ok(jwt, "a JWT in the Authorization header");
  const { payload } = await jwtVerify(jwt, SECRET, { algorithms: ["HS256"] });
  return payload.roles;
}

systemTest(
  "/authenticate: a Basic user in an LDAP-augmented realm gets directory roles in the JWT",
  [
    "slapd",
  ],
  async () => {
    await using ldap = await startSlapd({ memberOf: "active-directory" });
    await using gw = await startGateway(
      testConfig(`${PLAIN}augmenters:
${ldapEntry("directory", ldap.url)}${ldapEntry("teams", ldap.url, "    filters: [OU=TeamA]\n")}`),
      { files: { "ldap.secret": `${ldap.bindPassword}\n` } },
    );
    const alice = await gw.request("/authenticate", {
      headers: { authorization: basicAuth("alice:alicepw") },
    });
    assert.equal(alice.res.status, 200);
    assert.deepEqual(await rolesInJwt(alice.res), [
      "staff",
      "admins",
      "users",
      "SomeRole",
      "/TeamA/TeamB/SomeRole",
    ]);
    const carol = await gw.request("/authenticate", {
      headers: { authorization: basicAuth("carol:carolpw") },
    });
    assert.equal(carol.res.status, 200);
    assert.deepEqual(await rolesInJwt(carol.res), [], "carol has no groups");
    assert.ok(!gw.logs.join("\n").includes(ldap.bindPassword), "the bind password is never logged");
  },
);

systemTest(
  "/authenticate: 50 parallel requests for one new user make one LDAP search, later ones none",
  [
    "slapd",
  ],
  async () => {
    await using ldap = await startSlapd({ memberOf: "active-directory" });
    await using proxy = startTcpProxy(Number(new URL(ldap.url).port));
    await using gw = await startGateway(
      testConfig(
        `${PLAIN}augmenters:\n${ldapEntry("directory", `ldap://127.0.0.1:${proxy.port}`)}`,
      ),
      { files: { "ldap.secret": `${ldap.bindPassword}\n` } },
    );
    const authenticate = async () => {
      const { res } = await gw.request("/authenticate", {
        headers: { authorization: basicAuth("alice:alicepw") },
      });
      assert.equal(res.status, 200);
      return await rolesInJwt(res);
    };
    const roles = await Promise.all(Array.from({ length: 50 }, authenticate));
    for (const r of roles) assert.deepEqual(r, ["staff", "admins", "users", "SomeRole"]);
    assert.equal(proxy.occurrences("alice"), 1, "one search on the wire");
    await ldap.stop();
    assert.deepEqual(await authenticate(), ["staff", "admins", "users", "SomeRole"], "cached");
    assert.equal(proxy.occurrences("alice"), 1);
  },
);

systemTest(
  "/authenticate with LDAP down: on_error skip → 200 without its roles, fail → 503 (checklist 102)",
  [],
  async () => {
    const down = `ldap://127.0.0.1:${freePort()}`;
    for (const [onError, status] of [["skip", 200], ["fail", 503]] as const) {
      await using gw = await startGateway(
        testConfig(
          `${PLAIN}augmenters:\n${ldapEntry("directory", down, `    on_error: ${onError}\n`)}`,
        ),
        { files: { "ldap.secret": "never-logged-secret\n" } },
      );
      const { res } = await gw.request("/authenticate", {
        headers: { authorization: basicAuth("alice:alicepw") },
      });
      assert.equal(res.status, status, `on_error: ${onError}`);
      if (status === 200) assert.deepEqual(await rolesInJwt(res), ["staff"]);
      const logs = gw.logs.join("\n");
      assert.match(logs, /auth\.augmenter\.failed/);
      assert.match(logs, /ECONNREFUSED|refused/);
      assert.ok(!logs.includes("never-logged-secret"));
    }
  },
);

systemTest(
  "/authenticate against an LDAP server that never answers is bounded by augmenter_timeout_in_ms",
  [],
  async () => {
    await using silent = startSilentServer();
    await using gw = await startGateway(
      testConfig(`auth: { augmenter_timeout_in_ms: 300 }
${PLAIN}augmenters:
${
        ldapEntry(
          "directory",
          `ldap://127.0.0.1:${silent.port}`,
          "    operation_timeout_ms: 600000\n",
        )
      }`),
      { files: { "ldap.secret": "pw\n" } },
    );
    const started = performance.now();
    const { res } = await gw.request("/authenticate", {
      headers: { authorization: basicAuth("alice:alicepw") },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await rolesInJwt(res), ["staff"]);
    assert.ok(performance.now() - started < 10_000, "answered soon after the timeout");
    assert.ok(await eventually(() => silent.closedByClient === silent.accepted), "socket closed");
    assert.match(gw.logs.join("\n"), /timed out after 300 ms/);
  },
);

async function configError(augmenters: string): Promise<ConfigError> {
  const dir = await Deno.makeTempDir({ prefix: "aot-ldap-config-" });
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, testConfig(`${PLAIN}augmenters:\n${augmenters}`));
    await Deno.writeTextFile(`${dir}/ldap.secret`, "pw\n");
    const config = await loadConfig(path, {});
    const error = await checkPlugins(config).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ldap config: a malformed filters entry or a missing bind_dn refuses to start (checklist 108, 109)", async () => {
  const malformed = await configError(
    ldapEntry("directory", "ldap://127.0.0.1:1", "    filters: [OU=TeamA, Invalid]\n"),
  );
  assert.match(malformed.message, /config\.yaml:\d+:\d+/);
  assert.match(malformed.message, /augmenters\[0\]\.filters\[1\]/);
  assert.match(malformed.message, /Invalid LDAP filter 'Invalid': expected key=value segments/);

  const noBindDn = await configError(
    ldapEntry("directory", "ldap://127.0.0.1:1").replace(/ {4}bind_dn: .*\n/, ""),
  );
  assert.match(noBindDn.message, /augmenters\[0\]\.bind_dn/);
  assert.match(noBindDn.message, /required/);
});

systemTest(
  "/authenticate with two LDAP entries for one username: on_error skip → no LDAP roles, fail → 503 (U12)",
  [
    "slapd",
  ],
  async () => {
    await using ldap = await startSlapd({ memberOf: "active-directory" });
    const admin = new Client({ url: ldap.url });
    try {
      await admin.bind(ldap.adminDn, ldap.adminPassword);
      await admin.add(`cn=carol,ou=contractors,ou=people,${ldap.searchBase}`, {
        objectClass: ["inetOrgPerson", "authotronAdUser"],
        cn: "carol",
        sn: "carol",
        memberOf: [`CN=admins,ou=groups,${ldap.searchBase}`],
      });
    } finally {
      await admin.unbind();
    }
    for (const [onError, status] of [["skip", 200], ["fail", 503]] as const) {
      await using gw = await startGateway(
        testConfig(
          `${PLAIN}augmenters:\n${ldapEntry("directory", ldap.url, `    on_error: ${onError}\n`)}`,
        ),
        { files: { "ldap.secret": `${ldap.bindPassword}\n` } },
      );
      const { res } = await gw.request("/authenticate", {
        headers: { authorization: basicAuth("carol:carolpw") },
      });
      assert.equal(res.status, status, `on_error: ${onError}`);
      if (status === 200) assert.deepEqual(await rolesInJwt(res), [], "never the twin's admins");
      const logs = gw.logs.join("\n");
      assert.match(logs, /augmenters\.ldap\.ambiguous/);
      assert.match(logs, /auth\.augmenter\.failed/);
    }
  },
);
