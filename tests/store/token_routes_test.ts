import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";

const ALICE = { authorization: basicAuth("alice:alice-pw") };
const BOB = { authorization: basicAuth("bob:bob-pw") };
const ALICE_OTHER = { authorization: basicAuth("alice:other-pw") };
const TOKEN = /^aot_[A-Za-z0-9_-]{43}$/;

function config(kvPath: string, extraRoles = "", auth = ""): string {
  return testConfig(
    `${auth}providers:
  - type: plain
    name: demo-users
    realm: demo
    users:
      - { username: alice, password: alice-pw, roles: [user] }
      - { username: bob, password: bob-pw, roles: [user] }
  - type: plain
    name: other-users
    realm: other
    users:
      - { username: alice, password: other-pw, roles: [guest] }
augmenters:
  - type: plain
    name: admins
    realm: demo
    roles: { admin: [alice]${extraRoles} }
`,
    { store: `{ enabled: true, path: "${kvPath}", default_ttl: 600, max_ttl: 3600 }` },
  );
}

async function withGateway(
  fn: (gw: TestGateway, kvPath: string) => Promise<void>,
  auth = "",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aot-kv-routes-" });
  try {
    await using gw = await startGateway(config(`${dir}/data/tokens.kv`, "", auth));
    await fn(gw, `${dir}/data/tokens.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

async function create(
  gw: TestGateway,
  headers: Record<string, string> = ALICE,
  query = "",
): Promise<{ token: string; id: string; expires_at: string }> {
  const { res, body } = await gw.request(`/token${query}`, { headers });
  assert.equal(res.status, 200, body);
  return JSON.parse(body);
}

async function status(gw: TestGateway, path: string, init: RequestInit = {}): Promise<number> {
  return (await gw.request(path, init)).res.status;
}

Deno.test("GET /token returns a usable token once; /authenticate accepts it at once", async () => {
  await withGateway(async (gw) => {
    const before = Date.now();
    const { res, body } = await gw.request("/token", { headers: ALICE });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const created = JSON.parse(body);
    assert.deepEqual(Object.keys(created), ["token", "id", "expires_at"]);
    assert.match(created.token, TOKEN);
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    const expires = Date.parse(created.expires_at);
    assert.ok(expires >= before + 600_000 && expires <= Date.now() + 600_000, "default_ttl");

    const auth = await gw.request("/authenticate", { headers: bearer(created.token) });
    assert.equal(auth.res.status, 200);
    const jwt = decodeJwt(auth.res.headers.get("authorization")!.slice(7));
    assert.equal(jwt.sub, "demo-alice");
    assert.deepEqual(jwt.roles, ["user", "admin"], "augmenters re-applied without duplicates");
    assert.equal(gw.logs.some((l) => l.includes(created.token)), false, "secret never logged");
    assert.ok(gw.logs.some((l) => l.includes('"provider":"token-store"')));
  });
});

Deno.test("POST /tokens takes name and expires_in; max_ttl caps; GET /tokens never shows the secret", async () => {
  await withGateway(async (gw) => {
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: ALICE })).body), {
      tokens: [],
    });
    const first = await create(gw);
    const bare = await gw.request("/tokens?name=bare", { method: "POST", headers: ALICE });
    assert.equal(bare.res.status, 200, "POST without a body (curl -X POST)");
    const bareId = JSON.parse(bare.body).id;
    assert.equal(await status(gw, `/token/${bareId}`, { method: "DELETE", headers: ALICE }), 204);
    const { res, body } = await gw.request("/tokens", {
      method: "POST",
      headers: { ...ALICE, "content-type": "application/json" },
      body: JSON.stringify({ name: "ci <robot>", expires_in: 10 ** 9 }),
    });
    assert.equal(res.status, 200, body);
    const second = JSON.parse(body);
    assert.ok(Date.parse(second.expires_at) <= Date.now() + 3_600_000, "capped by max_ttl");
    assert.ok(Date.parse(second.expires_at) > Date.now() + 3_590_000);

    const listed = await gw.request("/tokens", { headers: ALICE });
    assert.equal(listed.res.status, 200);
    assert.equal(listed.body.includes(first.token), false);
    assert.equal(listed.body.includes(second.token), false);
    const { tokens } = JSON.parse(listed.body);
    assert.deepEqual(tokens.map((t: { id: string }) => t.id), [first.id, second.id]);
    assert.deepEqual(Object.keys(tokens[1]), [
      "id",
      "prefix",
      "name",
      "created_at",
      "expires_at",
      "last_used_at",
    ]);
    assert.equal(tokens[0].name, null);
    assert.equal(tokens[1].name, "ci <robot>");
    assert.equal(tokens[1].prefix, second.token.slice(0, 12));
    assert.equal(tokens[1].last_used_at, null);
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: BOB })).body), {
      tokens: [],
    });
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: ALICE_OTHER })).body), {
      tokens: [],
    }, "same username in another realm is another owner");

    assert.equal(await status(gw, "/authenticate", { headers: bearer(second.token) }), 200);
    let lastUsed = null;
    for (let i = 0; i < 100 && lastUsed === null; i++) {
      const again = JSON.parse((await gw.request("/tokens", { headers: ALICE })).body);
      lastUsed = again.tokens[1].last_used_at;
      if (lastUsed === null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(lastUsed !== null && Date.parse(lastUsed) <= Date.now(), "last_used_at recorded");
  });
});

Deno.test("token creation refuses invalid parameters with 400/415 and creates nothing", async () => {
  await withGateway(async (gw) => {
    for (const query of ["0", "-5", "abc", "1.5", "1e3", "", "10&expires_in=20"]) {
      const { res, body } = await gw.request(`/token?expires_in=${query}`, { headers: ALICE });
      assert.equal(res.status, 400, query);
      assert.match(JSON.parse(body).error, /expires_in/);
    }
    assert.equal(await status(gw, `/token?name=${"n".repeat(101)}`, { headers: ALICE }), 400);
    assert.equal(await status(gw, `/token?name=a%0Ab`, { headers: ALICE }), 400);
    const post = (body: string, type = "application/json") =>
      status(gw, "/tokens", {
        method: "POST",
        headers: { ...ALICE, "content-type": type },
        body,
      });
    assert.equal(await post(`{"name":"x","owner":"bob"}`), 400, "field allowlist");
    assert.equal(await post(`{"__proto__":{"admin":true}}`), 400);
    assert.equal(await post(`[1]`), 400);
    assert.equal(await post(`{"expires_in":"soon"}`), 400);
    assert.equal(await post(`not json`), 400);
    assert.equal(await post(`{"name":"x"}`, "text/plain"), 415, "form-like bodies refused");
    assert.equal(await post(JSON.stringify({ name: "x".repeat(5000) })), 413);
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: ALICE })).body), {
      tokens: [],
    });
  });
});

Deno.test("DELETE /token/{token-or-id}: only the owner, 404 for anyone else, the token survives", async () => {
  await withGateway(async (gw) => {
    const a = await create(gw);
    const b = await create(gw);
    for (const attacker of [BOB, ALICE_OTHER]) {
      for (const target of [a.token, a.id, a.id.toUpperCase()]) {
        const { res } = await gw.request(`/token/${target}`, {
          method: "DELETE",
          headers: attacker,
        });
        assert.equal(res.status, 404);
      }
    }
    assert.equal(await status(gw, "/authenticate", { headers: bearer(a.token) }), 200);
    assert.equal(
      JSON.parse((await gw.request("/tokens", { headers: ALICE })).body).tokens.length,
      2,
    );

    const byToken = await gw.request(`/token/${a.token}`, { method: "DELETE", headers: ALICE });
    assert.equal(byToken.res.status, 204);
    assert.equal(byToken.body, "");
    assert.equal(await status(gw, "/authenticate", { headers: bearer(a.token) }), 401);
    assert.equal(await status(gw, `/token/${b.id}`, { method: "DELETE", headers: ALICE }), 204);
    assert.equal(await status(gw, "/authenticate", { headers: bearer(b.token) }), 401);
    for (const gone of [a.token, b.id, "x", crypto.randomUUID(), "%zz"]) {
      assert.equal(await status(gw, `/token/${gone}`, { method: "DELETE", headers: ALICE }), 404);
    }
    assert.equal(await status(gw, `/token/${a.id}`, { method: "DELETE" }), 401);
  });
});

Deno.test("a token stops working as soon as it expires", async () => {
  await withGateway(async (gw) => {
    const { token, expires_at } = await create(gw, ALICE, "?expires_in=1");
    assert.equal(await status(gw, "/authenticate", { headers: bearer(token) }), 200);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expires_at) - Date.now()) + 50));
    assert.equal(await status(gw, "/authenticate", { headers: bearer(token) }), 401);
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: ALICE })).body), {
      tokens: [],
    });
  });
});

Deno.test("cross-site token creation and deletion are refused with 403", async () => {
  await withGateway(async (gw) => {
    const host = new URL(gw.url).host;
    const { token, id } = await create(gw, { ...ALICE, origin: `http://${host}` });
    await create(gw, { ...ALICE, "sec-fetch-site": "same-origin" });
    await create(gw, { ...ALICE, origin: "https://gw.example", "x-forwarded-host": "gw.example" });
    const forged: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site", origin: `http://${host}` },
    ];
    for (const headers of forged) {
      const get = await gw.request("/token", { headers: { ...ALICE, ...headers } });
      assert.equal(get.res.status, 403, JSON.stringify(headers));
      const post = await gw.request("/tokens", {
        method: "POST",
        headers: { ...ALICE, ...headers, "content-type": "text/plain" },
        body: "{}",
      });
      assert.equal(post.res.status, 403);
      for (const target of [token, id]) {
        const del = await gw.request(`/token/${target}`, {
          method: "DELETE",
          headers: { ...ALICE, ...headers },
        });
        assert.equal(del.res.status, 403);
      }
    }
    const listed = await gw.request("/tokens", {
      headers: { ...ALICE, "sec-fetch-site": "cross-site" },
    });
    assert.equal(JSON.parse(listed.body).tokens.length, 3, "nothing created or deleted");
    assert.equal(await status(gw, "/authenticate", { headers: bearer(token) }), 200);
  });
});

Deno.test("X-Auth-Realm: a token is accepted only for its owner's realm (any case)", async () => {
  await withGateway(async (gw) => {
    const demo = await create(gw);
    const other = await create(gw, ALICE_OTHER);
    assert.equal(
      await status(gw, "/authenticate", {
        headers: bearer(demo.token, { "x-auth-realm": "demo" }),
      }),
      200,
    );
    assert.equal(
      await status(gw, "/authenticate", {
        headers: bearer(demo.token, { "x-auth-realm": "DEMO" }),
      }),
      200,
    );
    const wrong = await gw.request("/authenticate", {
      headers: bearer(demo.token, { "x-auth-realm": "other" }),
    });
    assert.equal(wrong.res.status, 401);
    assert.equal(
      await status(gw, "/authenticate", {
        headers: bearer(demo.token, { "x-auth-realm": "nope" }),
      }),
      401,
    );
    const whoami = await gw.request("/whoami", {
      headers: bearer(other.token, { "x-auth-realm": "other" }),
    });
    assert.equal(whoami.res.status, 200);
    const user = JSON.parse(whoami.body);
    assert.equal(user.realm, "other");
    assert.deepEqual(user.roles, ["guest"]);
  });
});

Deno.test("tokens do not beget tokens; HEAD /token creates nothing", async () => {
  await withGateway(async (gw) => {
    const { token } = await create(gw);
    const { res, body } = await gw.request("/token", { headers: bearer(token) });
    assert.equal(res.status, 403);
    assert.match(body, /cannot be used to create, list or delete tokens/);
    assert.equal(await status(gw, "/token", { method: "HEAD", headers: ALICE }), 405);
  });
});

Deno.test("F3: a token can neither list nor delete its owner's tokens (not even itself)", async () => {
  await withGateway(async (gw) => {
    const leaked = await create(gw);
    const other = await create(gw);
    const listed = await gw.request("/tokens", { headers: bearer(leaked.token) });
    assert.equal(listed.res.status, 403);
    assert.match(listed.body, /cannot be used to create, list or delete tokens/);
    for (const target of [other.id, other.token, leaked.id, leaked.token]) {
      const del = await gw.request(`/token/${target}`, {
        method: "DELETE",
        headers: bearer(leaked.token),
      });
      assert.equal(del.res.status, 403, target);
    }
    const post = await gw.request("/tokens", {
      method: "POST",
      headers: bearer(leaked.token, { "content-type": "application/json" }),
      body: "{}",
    });
    assert.equal(post.res.status, 403);
    for (const token of [leaked.token, other.token]) {
      assert.equal(await status(gw, "/authenticate", { headers: bearer(token) }), 200, "survives");
    }
    // The owner's own credential still manages them.
    const mine = await gw.request("/tokens", { headers: ALICE });
    assert.equal(JSON.parse(mine.body).tokens.length, 2);
    assert.equal(
      await status(gw, `/token/${leaked.id}`, { method: "DELETE", headers: ALICE }),
      204,
    );
  });
});

Deno.test("F3: GET /token refuses browser no-cors and subresource requests; curl and clients keep working", async () => {
  await withGateway(async (gw) => {
    const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
    const refused: Record<string, string>[] = [
      // <img src="https://gw/token"> in a current browser
      { "sec-fetch-site": "same-origin", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image" },
      { "sec-fetch-mode": "no-cors" },
      { "sec-fetch-dest": "script" },
      { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" },
      // an old browser's <img>: no Origin, no fetch metadata at all
      { "user-agent": browser, accept: "image/webp,*/*" },
      { "user-agent": "Mozilla/4.0 (compatible; MSIE 8.0)" },
    ];
    for (const headers of refused) {
      const { res, body } = await gw.request("/token", { headers: { ...ALICE, ...headers } });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(body, /use POST \/tokens/);
    }
    assert.deepEqual(JSON.parse((await gw.request("/tokens", { headers: ALICE })).body), {
      tokens: [],
    }, "nothing was created");
    const allowed: Record<string, string>[] = [
      {}, // fetch() from Deno, the original's clients
      { "user-agent": "curl/7.88.1", accept: "*/*" },
      { "user-agent": "python-requests/2.31.0" },
      // a page's fetch() and a top-level visit, in a browser that sends fetch metadata
      {
        "user-agent": browser,
        "sec-fetch-site": "same-origin",
        "sec-fetch-mode": "cors",
        "sec-fetch-dest": "empty",
      },
      {
        "user-agent": browser,
        "sec-fetch-site": "none",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
      },
    ];
    for (const headers of allowed) await create(gw, { ...ALICE, ...headers });
    // The rule is only for GET /token: POST /tokens and listing are not subresource-loadable.
    const listed = await gw.request("/tokens", { headers: { ...ALICE, "user-agent": browser } });
    assert.equal(JSON.parse(listed.body).tokens.length, allowed.length);
  });
});

Deno.test("F3: X-Forwarded-Host counts for the CSRF origin check only from trusted_proxies", async () => {
  const evil = { ...ALICE, origin: "https://evil.example", "x-forwarded-host": "evil.example" };
  await withGateway(async (gw) => {
    assert.equal(await status(gw, "/token", { headers: evil }), 403, "GET /token");
    const post = await gw.request("/tokens", {
      method: "POST",
      headers: { ...evil, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(post.res.status, 403, "POST /tokens");
    const { id } = await create(gw);
    assert.equal(await status(gw, `/token/${id}`, { method: "DELETE", headers: evil }), 403);
  }, "auth:\n  brute_force: { trusted_proxies: [] }\n");
  // From a trusted proxy (loopback, the default) the forwarded host is the public name.
  await withGateway(async (gw) => {
    await create(gw, { ...ALICE, origin: "https://gw.example", "x-forwarded-host": "gw.example" });
  });
});

Deno.test("augmenters run again on the stored snapshot after a config change, without duplicates", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-kv-routes-" });
  const path = `${dir}/tokens.kv`;
  try {
    let token: string;
    {
      await using gw = await startGateway(config(path));
      token = (await create(gw)).token;
    }
    await using gw = await startGateway(config(path, ", auditor: [alice]"));
    const { body } = await gw.request("/whoami", { headers: bearer(token) });
    assert.deepEqual(JSON.parse(body).roles, ["user", "admin", "auditor"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token store metrics: operations counted, token-store provider series pre-initialised", async () => {
  await withGateway(async (gw) => {
    const initial = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
    assert.match(
      initial,
      /auth_provider_attempts_total\{[^}]*provider_name="token-store"[^}]*provider_type="Bearer"[^}]*realm="unknown"[^}]*\} 0/,
    );
    assert.match(
      initial,
      /authotron_token_store_operations_total\{operation="find",result="error"\} 0/,
    );
    const { token } = await create(gw);
    await status(gw, "/authenticate", { headers: bearer(token) });
    const after = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
    assert.match(
      after,
      /authotron_token_store_operations_total\{operation="create",result="success"\} 1/,
    );
    assert.match(
      after,
      /authotron_token_store_operations_total\{operation="find",result="success"\} 1/,
    );
    assert.match(after, /authotron_http_requests_total\{[^}]*route="\/token"/);
  });
});
