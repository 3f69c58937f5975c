import assert from "node:assert/strict";
import { OptionsError } from "../../lib/plugin.ts";
import { parseLdapOptions } from "../../augmenters/_ldap/options.ts";
import { loadLdapSecrets } from "../../augmenters/_ldap/secrets.ts";

const BASE = {
  uri: "ldap://127.0.0.1:389",
  search_base: "dc=example,dc=org",
  bind_dn: "cn=gateway,dc=example,dc=org",
  ldap_password: "s3cret",
};

function rejects(options: Record<string, unknown>, path: (string | number)[], message: RegExp) {
  assert.throws(() => parseLdapOptions(options), (e: unknown) => {
    assert.ok(e instanceof OptionsError, String(e));
    assert.deepEqual(e.path, path);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseLdapOptions() reads the original's keys with the documented defaults", () => {
  const options = parseLdapOptions({ ...BASE, ldap_user: "ignored (removed upstream)" });
  assert.deepEqual(options, {
    uri: BASE.uri,
    searchBase: BASE.search_base,
    bindDn: BASE.bind_dn,
    password: { key: "ldap_password", value: "s3cret" },
    rule: { kind: "cn" },
    startTls: false,
    caFile: undefined,
    cacheTtlS: 120,
    cacheMaxEntries: 10_000,
    poolSize: 4,
    connectTimeoutMs: 5_000,
    operationTimeoutMs: 5_000,
  });
  assert.deepEqual(parseLdapOptions({ ...BASE, filter: "TeamA" }).rule, {
    kind: "substring",
    filter: "TeamA",
  });
  assert.deepEqual(parseLdapOptions({ ...BASE, filter: "x", filters: ["OU=A"] }).rule, {
    kind: "paths",
    filters: [[["OU", "A"]]],
  });
});

Deno.test("parseLdapOptions() refuses missing uri, search_base and bind_dn", () => {
  for (const key of ["uri", "search_base", "bind_dn"]) {
    const options: Record<string, unknown> = { ...BASE };
    delete options[key];
    rejects(options, [key], /required/);
  }
  rejects({ ...BASE, bind_dn: "" }, ["bind_dn"], /non-empty/);
});

Deno.test("parseLdapOptions() refuses a malformed filters entry at startup, naming its index", () => {
  rejects(
    { ...BASE, filters: ["OU=TeamB", "Invalid"] },
    ["filters", 1],
    /Invalid LDAP filter 'Invalid': expected key=value segments/,
  );
  rejects({ ...BASE, filters: "OU=A" }, ["filters"], /list/);
  rejects({ ...BASE, filters: [1] }, ["filters", 0], /string/);
  rejects({ ...BASE, filter: 3 }, ["filter"], /string/);
});

Deno.test("parseLdapOptions() wants exactly one password source", () => {
  const { ldap_password: _, ...noPassword } = BASE;
  rejects(noPassword, ["ldap_password"], /exactly one/);
  rejects({ ...BASE, ldap_password_env: "X" }, ["ldap_password_env"], /exactly one/);
  rejects({ ...BASE, ldap_password: "" }, ["ldap_password"], /non-empty/);
  assert.deepEqual(parseLdapOptions({ ...noPassword, ldap_password_env: "LDAP_PW" }).password, {
    key: "ldap_password_env",
    name: "LDAP_PW",
  });
  assert.deepEqual(parseLdapOptions({ ...noPassword, ldap_password_file: "pw.txt" }).password, {
    key: "ldap_password_file",
    path: "pw.txt",
  });
});

Deno.test("parseLdapOptions() checks uri, TLS settings, numbers and unknown keys", () => {
  rejects({ ...BASE, uri: "http://x" }, ["uri"], /ldap:\/\/ or ldaps:\/\//);
  rejects({ ...BASE, uri: "ldap://u:p@host" }, ["uri"], /only scheme, host and port/);
  rejects({ ...BASE, uri: "ldaps://h", start_tls: true }, ["start_tls"], /ldap:\/\//);
  rejects({ ...BASE, start_tls: "yes" }, ["start_tls"], /true or false/);
  rejects({ ...BASE, ca_file: "ca.pem" }, ["ca_file"], /ldaps|start_tls/);
  rejects({ ...BASE, cache_ttl_s: -1 }, ["cache_ttl_s"], /integer/);
  rejects({ ...BASE, pool_size: 0 }, ["pool_size"], /integer/);
  rejects({ ...BASE, uri_typo: 1 }, ["uri_typo"], /unknown key/);
  assert.equal(parseLdapOptions({ ...BASE, uri: "ldaps://h", ca_file: "ca.pem" }).caFile, "ca.pem");
  assert.equal(parseLdapOptions({ ...BASE, start_tls: true, ca_file: "c" }).startTls, true);
  assert.equal(parseLdapOptions({ ...BASE, cache_ttl_s: 0 }).cacheTtlS, 0);
});

Deno.test("loadLdapSecrets() reads the password from env or a file next to the config", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-ldap-secrets-" });
  try {
    const configUrl = new URL(`file://${dir}/config.yaml`);
    const { ldap_password: _, ...base } = BASE;
    await Deno.writeTextFile(`${dir}/pw.txt`, "from file\n");
    const fromFile = parseLdapOptions({ ...base, ldap_password_file: "pw.txt" });
    assert.equal((await loadLdapSecrets(fromFile, configUrl)).password, "from file");

    const name = `AOT_TEST_LDAP_PW_${crypto.randomUUID().slice(0, 8)}`;
    Deno.env.set(name, "from env");
    try {
      const fromEnv = parseLdapOptions({ ...base, ldap_password_env: name });
      assert.equal((await loadLdapSecrets(fromEnv, configUrl)).password, "from env");
    } finally {
      Deno.env.delete(name);
    }
    const missingEnv = parseLdapOptions({ ...base, ldap_password_env: name });
    await assert.rejects(
      loadLdapSecrets(missingEnv, configUrl),
      (e: unknown) =>
        e instanceof OptionsError && e.path[0] === "ldap_password_env" &&
        e.message.includes("is not set"),
    );

    const missingFile = parseLdapOptions({ ...base, ldap_password_file: "nope.txt" });
    await assert.rejects(
      loadLdapSecrets(missingFile, configUrl),
      (e: unknown) => e instanceof OptionsError && e.path[0] === "ldap_password_file",
    );

    await Deno.writeTextFile(`${dir}/empty.txt`, "\n");
    const empty = parseLdapOptions({ ...base, ldap_password_file: "empty.txt" });
    await assert.rejects(loadLdapSecrets(empty, configUrl), /bind password is empty/);

    await Deno.writeTextFile(`${dir}/ca.pem`, "not a certificate");
    const badCa = parseLdapOptions({ ...BASE, uri: "ldaps://h", ca_file: "ca.pem" });
    await assert.rejects(
      loadLdapSecrets(badCa, configUrl),
      (e: unknown) => e instanceof OptionsError && e.path[0] === "ca_file",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
