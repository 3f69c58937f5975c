import assert from "node:assert/strict";
import { Client, InvalidCredentialsError, NoSuchObjectError } from "ldapts";
import postgres from "postgres";
import { nginxConfig, startNginx } from "./nginx.ts";
import { startPostgres } from "./postgres.ts";
import { startSlapd } from "./slapd.ts";
import {
  findBinary,
  freePort,
  MissingBinaryError,
  requireBinary,
  sleep,
  spawnLogged,
  systemTest,
  tempDir,
  waitForPort,
} from "./system.ts";

const SYSTEM_URL = new URL("./system.ts", import.meta.url).href;

Deno.test("findBinary() searches PATH and globbed install paths; requireBinary() names what to install", () => {
  assert.match(findBinary("sh") ?? "", /\/sh$/);
  assert.match(findBinary("authotron-no-such-tool", "/bin/s*") ?? "", /^\/bin\/s/);
  assert.equal(findBinary("authotron-no-such-tool"), undefined);
  assert.throws(() => requireBinary("authotron-no-such-tool"), MissingBinaryError);
  assert.equal(
    new MissingBinaryError("slapd").message,
    "slapd not installed (apt-get install slapd ldap-utils)",
  );
});

Deno.test("freePort() returns a bindable port; waitForPort() waits for a listener and times out without one", async () => {
  const port = freePort();
  await assert.rejects(waitForPort(port, 200), /nothing listens on 127\.0\.0\.1:\d+ after 200 ms/);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const accepted = listener.accept().then((conn) => conn.close());
  await waitForPort(port, 5_000);
  await accepted;
  listener.close();
});

Deno.test("systemTest() skips loudly when a binary is missing, and fails under CI=true", async () => {
  const dir = await tempDir("skip-probe");
  try {
    const probe = `${dir}/probe_test.ts`;
    await Deno.writeTextFile(
      probe,
      `import { systemTest } from "${SYSTEM_URL}";\n` +
        `systemTest("needs a tool", ["authotron-no-such-tool"], () => {});\n`,
    );
    const runProbe = async (ci: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--no-check", "--allow-env", "--allow-read", probe],
        env: { CI: ci, NO_COLOR: "1" },
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      return { code: out.code, text };
    };
    const local = await runProbe("false");
    assert.equal(local.code, 0, local.text);
    assert.match(local.text, /SKIPPED needs a tool: authotron-no-such-tool not installed/);
    assert.match(local.text, /0 passed \| 0 failed \| 1 ignored/);
    const ci = await runProbe("true");
    assert.equal(ci.code, 1, ci.text);
    assert.match(ci.text, /authotron-no-such-tool not installed/);
    assert.match(ci.text, /0 passed \| 1 failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `ps` state of a process (`Z` = zombie) or `undefined` when it no longer exists. */
async function processState(pid: number): Promise<string | undefined> {
  const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] }).output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
}

systemTest(
  "spawnLogged() logs output; stop() signals the process group and SIGKILLs what ignores it",
  ["sh", "ps"],
  async () => {
    const dir = await tempDir("spawn");
    try {
      // The background child ignores SIGTERM, like a stuck worker.
      const script = `echo hello; echo oops >&2; (trap "" TERM; exec sleep 300) &
        echo $! > ${dir}/child; wait`;
      const proc = await spawnLogged("sh", { args: ["-c", script], logFile: `${dir}/out.log` });
      let child = "";
      while (!child.trim()) {
        child = await Deno.readTextFile(`${dir}/child`).catch(() => "");
        await sleep(20);
      }
      assert.match((await processState(Number(child))) ?? "", /^S/);
      const status = await proc.stop("SIGTERM", 5_000);
      assert.equal(status.signal, "SIGTERM");
      assert.ok(proc.exited);
      assert.match((await processState(Number(child))) ?? "gone", /^(Z|gone)/);
      assert.match(await proc.logTail(), /hello\noops|oops\nhello/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

async function memberOfOf(client: Client, base: string, cn: string): Promise<string[]> {
  const { searchEntries } = await client.search(base, {
    scope: "sub",
    filter: `(&(objectClass=person)(cn=${cn}))`,
    attributes: ["memberOf"],
  });
  assert.equal(searchEntries.length, 1, `one entry for ${cn}`);
  return [searchEntries[0].memberOf ?? []].flat().map(String).sort();
}

systemTest("startSlapd() serves users with overlay memberOf over ldap, ldaps and StartTLS", [
  "slapd",
  "openssl",
], async () => {
  const ldap = await startSlapd({ tls: true });
  try {
    const connections: [string, (c: Client) => Promise<void>][] = [
      [ldap.url, async () => {}],
      [ldap.ldapsUrl!, async () => {}],
      [ldap.url, (c) => c.startTLS({ ca: [ldap.caPem!] })],
    ];
    for (const [url, upgrade] of connections) {
      const tlsOptions = url.startsWith("ldaps:") ? { ca: [ldap.caPem!] } : undefined;
      const client = new Client({ url, tlsOptions });
      try {
        await upgrade(client);
        await client.bind(ldap.bindDn, ldap.bindPassword);
        for (const user of Object.values(ldap.users)) {
          if (user.cn.includes("(")) continue; // unescapable in a raw filter
          assert.deepEqual(
            await memberOfOf(client, ldap.searchBase, user.cn),
            user.memberOf.toSorted(),
          );
        }
      } finally {
        await client.unbind();
      }
    }
    assert.deepEqual(ldap.users.alice.memberOf, [
      "cn=admins,ou=groups,dc=example,dc=org",
      "cn=users,ou=groups,dc=example,dc=org",
      "cn=SomeRole,ou=TeamB,ou=TeamA,ou=groups,dc=example,dc=org",
    ]);
    const user = new Client({ url: ldap.url });
    try {
      await user.bind(ldap.users.alice.dn, ldap.users.alice.password);
      await assert.rejects(user.bind(ldap.users.bob.dn, "wrong"), InvalidCredentialsError);
    } finally {
      await user.unbind();
    }
    const untrusted = new Client({ url: ldap.ldapsUrl! });
    await assert.rejects(untrusted.bind(ldap.bindDn, ldap.bindPassword));
    await untrusted.unbind();
  } finally {
    await ldap.stop();
  }
  await assert.rejects(Deno.stat(ldap.dir), Deno.errors.NotFound);
  const port = Number(new URL(ldap.url).port);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

systemTest("startSlapd({ memberOf: 'active-directory' }) serves CN=/OU= memberOf strings", [
  "slapd",
], async () => {
  await using ldap = await startSlapd({ memberOf: "active-directory" });
  const client = new Client({ url: ldap.url });
  try {
    await client.bind(ldap.bindDn, ldap.bindPassword);
    assert.deepEqual(await memberOfOf(client, ldap.searchBase, "frank"), [
      "CN=OtherRole,OU=TeamC,OU=TeamB,OU=TeamA,OU=groups,DC=example,DC=org",
      "CN=SomeRole,OU=TeamB,OU=TeamA,OU=groups,DC=example,DC=org",
    ]);
    assert.deepEqual(await memberOfOf(client, ldap.searchBase, "carol"), []);
    // `eve*` in an unescaped filter is a wildcard that still finds the entry.
    assert.deepEqual(
      await memberOfOf(client, ldap.searchBase, "eve*"),
      ldap.users["eve*"].memberOf,
    );
    // Without a bind the directory reveals nothing.
    const anonymous = new Client({ url: ldap.url });
    await assert.rejects(
      anonymous.search(ldap.searchBase, { filter: "(cn=alice)" }),
      NoSuchObjectError,
    );
    await anonymous.unbind();
  } finally {
    await client.unbind();
  }
});

systemTest(
  "startPostgres() accepts SCRAM logins, keeps data over stop()/start() and recovers after kill9()",
  ["initdb", "postgres"],
  async () => {
    const pg = await startPostgres();
    const query = async <T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
      const sql = postgres(pg.uri, { max: 1, onnotice: () => {} });
      try {
        return await fn(sql);
      } finally {
        await sql.end();
      }
    };
    try {
      assert.match(pg.uri, /^postgres:\/\/gw:[^@]+@127\.0\.0\.1:\d+\/gateway$/);
      await query(async (sql) => {
        assert.deepEqual([...await sql`select 1 as one, current_user as who`], [{
          one: 1,
          who: "gw",
        }]);
        await sql`create table survivors (n int)`;
        await sql`insert into survivors values (1)`;
      });
      await pg.stop();
      await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: pg.port }));
      await pg.start();
      await query((sql) => sql`insert into survivors values (2)`);
      await pg.kill9();
      await pg.start();
      const rows = await query((sql) => sql`select n from survivors order by n`);
      assert.deepEqual(rows.map((r) => r.n), [1, 2]);
      const wrong = postgres(pg.uri.replace(/:[^:@]+@/, ":wrong@"), { max: 1 });
      await assert.rejects(wrong`select 1`, /password authentication failed/);
      await wrong.end();
    } finally {
      await pg.close();
    }
    await assert.rejects(Deno.stat(pg.dataDir), Deno.errors.NotFound);
  },
);

systemTest(
  "startNginx() serves a config, proxies to an upstream, stops; a bad config quotes nginx -t",
  ["nginx"],
  async () => {
    await using upstream = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => new Response(`upstream saw ${new URL(request.url).pathname}`),
    );
    const proxy = await startNginx(({ port }) =>
      nginxConfig(`server {
    listen 127.0.0.1:${port};
    location = /hello { return 200 "hello\\n"; }
    location / { proxy_pass http://127.0.0.1:${upstream.addr.port}; }
  }`)
    );
    try {
      assert.equal(await (await fetch(`${proxy.url}/hello`)).text(), "hello\n");
      assert.equal(await (await fetch(`${proxy.url}/a/b`)).text(), "upstream saw /a/b");
      assert.match(await Deno.readTextFile(`${proxy.dir}/access.log`), /GET \/a\/b HTTP/);
    } finally {
      await proxy.stop();
    }
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: proxy.port }));
    await assert.rejects(
      startNginx(nginxConfig(`server { listen 127.0.0.1:${freePort()}; no_such_directive on; }`)),
      /unknown directive "no_such_directive"[\s\S]*error\.log/,
    );
  },
);
