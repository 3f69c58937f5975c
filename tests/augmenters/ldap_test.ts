import assert from "node:assert/strict";
import { Client } from "ldapts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { captureLogger, pluginContext } from "../support/plugin_context.ts";
import { startSlapd } from "../support/slapd.ts";
import { freePort, systemTest } from "../support/system.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";
import {
  createLdapAugmenter,
  eventually,
  rolesOf,
  silentOptions,
  slapdOptions,
  startSilentServer,
} from "../support/ldap_augmenter.ts";

const AD = { memberOf: "active-directory" } as const;

function isUnavailable(kind?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof UpstreamUnavailableError, String(error));
    if (kind !== undefined) assert.equal(error.kind, kind, error.message);
    return true;
  };
}

systemTest("ldap augment() without filter gives the CN of every memberOf (checklist 104, 105)", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using ldap = await createLdapAugmenter(slapdOptions(server));
  assert.deepEqual(await rolesOf(ldap, "alice"), ["admins", "users", "SomeRole"]);
  assert.deepEqual(await rolesOf(ldap, "bob"), ["users"]);
  assert.deepEqual(await rolesOf(ldap, "frank"), ["SomeRole", "OtherRole"]);
  assert.equal(await rolesOf(ldap, "carol"), undefined, "no groups, no patch");
  assert.equal(await rolesOf(ldap, "nobody"), undefined, "unknown user, no patch");
  // LDAP matches cn case-insensitively, as the original's search does.
  assert.deepEqual(await rolesOf(ldap, "ALICE"), ["admins", "users", "SomeRole"]);
});

systemTest("ldap augment() with filter keeps CNs whose DN contains it (checklist 106)", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using teamA = await createLdapAugmenter(slapdOptions(server, { filter: "TeamA" }));
  assert.deepEqual(await rolesOf(teamA, "alice"), ["SomeRole"]);
  assert.deepEqual(await rolesOf(teamA, "frank"), ["SomeRole", "OtherRole"]);
  assert.equal(await rolesOf(teamA, "bob"), undefined);
  await using teamC = await createLdapAugmenter(slapdOptions(server, { filter: "OU=TeamC" }));
  assert.deepEqual(await rolesOf(teamC, "frank"), ["OtherRole"]);
  await using lower = await createLdapAugmenter(slapdOptions(server, { filter: "teama" }));
  assert.equal(await rolesOf(lower, "alice"), undefined, "the substring match is case-sensitive");
});

systemTest(
  "ldap augment() with filters gives /A/B/Role paths, both orientations, contiguous only (checklist 107)",
  [
    "slapd",
  ],
  async () => {
    await using server = await startSlapd(AD);
    const cases: [string[], string, string[] | undefined][] = [
      [["OU=TeamA"], "alice", ["/TeamA/TeamB/SomeRole"]],
      [["OU=TeamB"], "alice", ["/TeamB/SomeRole"]],
      [["OU=TeamA", "OU=TeamB"], "alice", ["/TeamA/TeamB/SomeRole", "/TeamB/SomeRole"]],
      [["OU=TeamA,OU=TeamB"], "alice", ["/TeamA/TeamB/SomeRole"]],
      [["OU=TeamB,OU=TeamA"], "alice", ["/TeamA/TeamB/SomeRole"]],
      [["ou=teama"], "alice", ["/TeamA/TeamB/SomeRole"]],
      [["OU=TeamA"], "frank", ["/TeamA/TeamB/SomeRole", "/TeamA/TeamB/TeamC/OtherRole"]],
      [["OU=TeamA,OU=TeamC"], "frank", undefined],
      [["OU=TeamC,OU=TeamB"], "frank", ["/TeamB/TeamC/OtherRole"]],
      [["OU=groups"], "bob", ["/groups/users"]],
      [["OU=TeamA", "OU=TeamA"], "alice", ["/TeamA/TeamB/SomeRole"]],
      [[], "alice", undefined],
    ];
    for (const [filters, username, expected] of cases) {
      await using ldap = await createLdapAugmenter(slapdOptions(server, { filters }));
      assert.deepEqual(await rolesOf(ldap, username), expected, `${filters} for ${username}`);
    }
  },
);

systemTest("ldap augment() gets no roles from lowercase cn= DNs (OpenLDAP memberof overlay)", [
  "slapd",
], async () => {
  await using server = await startSlapd({ memberOf: "overlay" });
  assert.match(server.users.alice.memberOf[0], /^cn=/);
  for (const extra of [{}, { filter: "TeamA" }, { filters: ["OU=TeamA"] }]) {
    await using ldap = await createLdapAugmenter(slapdOptions(server, extra));
    assert.equal(await rolesOf(ldap, "alice"), undefined, JSON.stringify(extra));
  }
});

systemTest("ldap augment() escapes the username: injection attempts match nobody (U11)", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using ldap = await createLdapAugmenter(slapdOptions(server));
  const attempts = [
    "*",
    "*)(cn=*",
    ")(cn=*",
    "*)(|(cn=*",
    "alice)(|(cn=*",
    "admin)(&)",
    "al*",
    "alice*",
    "(",
    "\\",
    "\\2a",
    "alice\0",
    "\0",
  ];
  for (const username of attempts) {
    assert.equal(await rolesOf(ldap, username), undefined, JSON.stringify(username));
  }
  // Names with special characters still find exactly their own entry.
  assert.deepEqual(await rolesOf(ldap, "eve*"), ["OtherRole"]);
  assert.deepEqual(await rolesOf(ldap, "dave (ops)"), ["users"]);
  assert.equal(ldap.status().failures, 0, "every attempt was a valid search, not an error");
});

systemTest(
  "ldap augment() fails with UpstreamUnavailableError when the server is down",
  [],
  async () => {
    const log = captureLogger();
    await using ldap = await createLdapAugmenter({
      uri: `ldap://127.0.0.1:${freePort()}`,
      search_base: "dc=example,dc=org",
      bind_dn: "cn=gateway,dc=example,dc=org",
      ldap_password: "do-not-leak-me",
    }, pluginContext("directory", "corp", log));
    const error = await rolesOf(ldap, "alice").then(
      () => assert.fail("expected a failure"),
      (e: Error) => e,
    );
    isUnavailable("refused")(error);
    assert.match(error.message, /ECONNREFUSED|refused/);
    const status = ldap.status();
    assert.equal(status.failures, 1);
    assert.deepEqual(status.pool, { open: 0, idle: 0, waiting: 0, size: 4 });
    const everything = JSON.stringify([error.message, status, log.lines]);
    assert.ok(!everything.includes("do-not-leak-me"), "the password appears nowhere");
  },
);

systemTest(
  "ldap augment() against a server that never answers is bounded by the call's signal",
  [],
  async () => {
    await using silent = startSilentServer();
    await using ldap = await createLdapAugmenter(silentOptions(silent, 600_000));
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException("timed out after 200 ms", "TimeoutError")),
      200,
    );
    const started = performance.now();
    try {
      await assert.rejects(rolesOf(ldap, "alice", controller.signal), isUnavailable("timeout"));
    } finally {
      clearTimeout(timer);
    }
    assert.ok(performance.now() - started < 10_000, "returned soon after the abort");
    assert.equal(silent.accepted, 1);
    assert.ok(await eventually(() => silent.closedByClient === 1), "the socket was closed");
    assert.equal(ldap.status().pool.open, 0);
  },
);

systemTest(
  "ldap augment() that joined another caller's search still honours its own signal",
  [],
  async () => {
    await using silent = startSilentServer();
    await using ldap = await createLdapAugmenter(silentOptions(silent, 600_000));
    const first = new AbortController();
    const second = new AbortController();
    const firstCall = rolesOf(ldap, "alice", first.signal).then(() => "resolved", (e) => e);
    const secondCall = rolesOf(ldap, "alice", second.signal).then(() => "resolved", (e) => e);
    assert.ok(await eventually(() => silent.accepted === 1), "the bind is pending on the wire");
    second.abort(new DOMException("timed out after 1 ms", "TimeoutError"));
    isUnavailable("timeout")(await secondCall);
    assert.equal(ldap.status().searches, 1, "the second call had joined the first one's search");
    assert.equal(ldap.status().pool.open, 1, "the shared search is still running");
    first.abort(new DOMException("timed out after 2 ms", "TimeoutError"));
    isUnavailable("timeout")(await firstCall);
    assert.ok(await eventually(() => silent.closedByClient === 1), "the socket was closed");
  },
);

systemTest(
  "ldap operation_timeout_ms bounds a silent server even when the signal never fires",
  [],
  async () => {
    await using silent = startSilentServer();
    await using ldap = await createLdapAugmenter(silentOptions(silent, 200));
    await assert.rejects(rolesOf(ldap, "alice"), isUnavailable("timeout"));
    assert.ok(await eventually(() => silent.closedByClient === 1), "the socket was closed");
  },
);

systemTest(
  "ldap caches lookups per username: no second search, even with slapd stopped (checklist 110)",
  [
    "slapd",
  ],
  async () => {
    await using server = await startSlapd(AD);
    await using proxy = startTcpProxy(Number(new URL(server.url).port));
    await using ldap = await createLdapAugmenter(
      slapdOptions(server, { uri: `ldap://127.0.0.1:${proxy.port}` }),
    );
    assert.deepEqual(await rolesOf(ldap, "alice"), ["admins", "users", "SomeRole"]);
    assert.deepEqual(await rolesOf(ldap, "alice"), ["admins", "users", "SomeRole"]);
    assert.equal(await rolesOf(ldap, "nobody"), undefined);
    assert.equal(await rolesOf(ldap, "nobody"), undefined, "empty results are cached too");
    assert.equal(proxy.occurrences("alice"), 1, "one search for alice on the wire");
    assert.equal(proxy.occurrences("nobody"), 1);
    await server.stop();
    assert.deepEqual(await rolesOf(ldap, "alice"), ["admins", "users", "SomeRole"]);
    await assert.rejects(rolesOf(ldap, "bob"), isUnavailable());
    const status = ldap.status();
    assert.equal(status.searches, 3);
    assert.equal(status.lookups, 6);
  },
);

systemTest("ldap cache_ttl_s expires entries and cache_max_entries bounds the cache", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using proxy = startTcpProxy(Number(new URL(server.url).port));
  const uri = `ldap://127.0.0.1:${proxy.port}`;
  await using shortLived = await createLdapAugmenter(
    slapdOptions(server, { uri, cache_ttl_s: 1 }),
  );
  await rolesOf(shortLived, "alice");
  await rolesOf(shortLived, "alice");
  assert.equal(proxy.occurrences("alice"), 1);
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  await rolesOf(shortLived, "alice");
  assert.equal(proxy.occurrences("alice"), 2, "searched again after the TTL");

  await using tiny = await createLdapAugmenter(slapdOptions(server, { uri, cache_max_entries: 1 }));
  await rolesOf(tiny, "frank");
  await rolesOf(tiny, "bob");
  await rolesOf(tiny, "frank");
  assert.equal(proxy.occurrences("frank"), 2, "frank was evicted by bob");
  assert.equal(tiny.status().cache.entries, 1);
});

systemTest("ldap 50 concurrent lookups of one new user make one search (single-flight)", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using proxy = startTcpProxy(Number(new URL(server.url).port));
  await using ldap = await createLdapAugmenter(
    slapdOptions(server, { uri: `ldap://127.0.0.1:${proxy.port}` }),
  );
  const results = await Promise.all(Array.from({ length: 50 }, () => rolesOf(ldap, "frank")));
  for (const roles of results) assert.deepEqual(roles, ["SomeRole", "OtherRole"]);
  assert.equal(proxy.occurrences("frank"), 1);
  assert.equal(proxy.connections, 1);
});

systemTest("ldap pool reuses connections, stays within pool_size and reconnects after a drop", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await using proxy = startTcpProxy(Number(new URL(server.url).port));
  await using ldap = await createLdapAugmenter(
    slapdOptions(server, { uri: `ldap://127.0.0.1:${proxy.port}`, pool_size: 2 }),
  );
  for (const name of ["alice", "bob", "carol", "frank", "eve*"]) await rolesOf(ldap, name);
  assert.equal(proxy.connections, 1, "sequential lookups share one connection");

  const names = Array.from({ length: 20 }, (_, i) => `nobody-${i}`);
  await Promise.all(names.map((name) => rolesOf(ldap, name)));
  assert.ok(proxy.connections <= 2, `at most pool_size connections, got ${proxy.connections}`);
  assert.equal(ldap.status().pool.open, proxy.connections);

  const before = proxy.connections;
  proxy.dropConnections();
  assert.deepEqual(await rolesOf(ldap, "dave (ops)"), ["users"]);
  assert.equal(proxy.connections, before + 1, "a fresh connection replaced the dropped ones");
});

systemTest("ldap over ldaps:// and StartTLS trusts only the configured CA", [
  "slapd",
  "openssl",
], async () => {
  await using server = await startSlapd({ ...AD, tls: true });
  // ca_file is resolved relative to the config file.
  const context = () => ({
    ...pluginContext("directory", "corp"),
    configUrl: new URL(`file://${server.dir}/config.yaml`),
  });
  const tlsCases: Record<string, unknown>[] = [
    { uri: server.ldapsUrl, ca_file: "ca.pem" },
    { start_tls: true, ca_file: "ca.pem" },
    { uri: server.ldapsUrl!.replace("127.0.0.1", "localhost"), ca_file: server.caFile },
  ];
  for (const extra of tlsCases) {
    await using ldap = await createLdapAugmenter(slapdOptions(server, extra), context());
    assert.deepEqual(await rolesOf(ldap, "bob"), ["users"], JSON.stringify(extra));
  }
  for (const extra of [{ uri: server.ldapsUrl }, { start_tls: true }]) {
    await using untrusted = await createLdapAugmenter(slapdOptions(server, extra), context());
    await assert.rejects(rolesOf(untrusted, "bob"), isUnavailable("tls"), JSON.stringify(extra));
  }
});

systemTest("ldap bind password from env or file; a wrong one fails without leaking it", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  const { ldap_password: _, ...noPassword } = slapdOptions(server);
  const name = `AOT_TEST_LDAP_PW_${crypto.randomUUID().slice(0, 8)}`;
  Deno.env.set(name, server.bindPassword);
  try {
    await using fromEnv = await createLdapAugmenter({ ...noPassword, ldap_password_env: name });
    assert.deepEqual(await rolesOf(fromEnv, "bob"), ["users"]);
  } finally {
    Deno.env.delete(name);
  }
  await Deno.writeTextFile(`${server.dir}/ldap.secret`, `${server.bindPassword}\n`);
  const context = {
    ...pluginContext("directory", "corp"),
    configUrl: new URL(`file://${server.dir}/config.yaml`),
  };
  await using fromFile = await createLdapAugmenter(
    { ...noPassword, ldap_password_file: "ldap.secret" },
    context,
  );
  assert.deepEqual(await rolesOf(fromFile, "bob"), ["users"]);

  const log = captureLogger();
  await using wrong = await createLdapAugmenter(
    { ...noPassword, ldap_password: "wrong-Secret-123" },
    pluginContext("directory", "corp", log),
  );
  const error = await rolesOf(wrong, "bob").then(
    () => assert.fail("expected a failure"),
    (e: Error) => e,
  );
  isUnavailable("ldap_result")(error);
  assert.match(error.message, /InvalidCredentialsError \(result code 49\)/);
  assert.ok(!JSON.stringify([error.message, wrong.status(), log.lines]).includes("wrong-Secret"));
});

systemTest(
  "ldap status() reports pool and cache; dispose closes connections",
  ["slapd"],
  async () => {
    await using server = await startSlapd(AD);
    await using proxy = startTcpProxy(Number(new URL(server.url).port));
    const ldap = await createLdapAugmenter(
      slapdOptions(server, { uri: `ldap://127.0.0.1:${proxy.port}` }),
    );
    await rolesOf(ldap, "alice");
    await rolesOf(ldap, "alice");
    const status = ldap.status();
    assert.equal(status.uri, `ldap://127.0.0.1:${proxy.port}`);
    assert.deepEqual(status.pool, { open: 1, idle: 1, waiting: 0, size: 4 });
    assert.deepEqual(status.connections, {
      connects: 1,
      connectFailures: 0,
      reuses: 0,
      discards: 0,
    });
    assert.deepEqual(status.cache, { entries: 1, ttl_s: 120, max_entries: 10_000 });
    assert.equal(status.lookups, 2);
    assert.equal(status.searches, 1);
    assert.equal(status.last_error, null);
    assert.ok(!JSON.stringify(status).includes(server.bindPassword));
    await ldap[Symbol.asyncDispose]();
    assert.deepEqual(ldap.status().pool, { open: 0, idle: 0, waiting: 0, size: 4 });
    await assert.rejects(rolesOf(ldap, "bob"), isUnavailable("closed"));
  },
);

/** Adds a second person `cn=<cn>` under `ou=contractors` (admin bind), in `admins`. */
async function addTwin(server: Awaited<ReturnType<typeof startSlapd>>, cn: string) {
  const client = new Client({ url: server.url });
  try {
    await client.bind(server.adminDn, server.adminPassword);
    await client.add(`cn=${cn},ou=contractors,ou=people,${server.searchBase}`, {
      objectClass: ["inetOrgPerson", "authotronAdUser"],
      cn,
      sn: cn,
      memberOf: [`CN=admins,ou=groups,${server.searchBase}`],
    });
  } finally {
    await client.unbind();
  }
}

systemTest("ldap augment() fails closed when several entries match the username (U12)", [
  "slapd",
], async () => {
  await using server = await startSlapd(AD);
  await addTwin(server, "bob");
  const log = captureLogger();
  await using ldap = await createLdapAugmenter(
    slapdOptions(server),
    pluginContext("directory", "corp", log),
  );
  await assert.rejects(rolesOf(ldap, "bob"), isUnavailable("ambiguous"));
  await assert.rejects(rolesOf(ldap, "BOB"), isUnavailable("ambiguous"));
  const ambiguous = log.lines.filter((line) => line.event === "augmenters.ldap.ambiguous");
  assert.equal(ambiguous.length, 2, "logged each time: failures are not cached");
  assert.equal(ambiguous[0].attributes?.entries, 2);
  assert.equal(ldap.status().failures, 2);
  assert.match(String(ldap.status().last_error?.message), /ambiguous: 2 entries/);
  assert.deepEqual(
    await rolesOf(ldap, "alice"),
    ["admins", "users", "SomeRole"],
    "others unaffected",
  );
});
