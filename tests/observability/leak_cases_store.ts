/**
 * Secret-leak case for the token store (embedded Deno KV in a temp dir) and
 * its `token-store` pseudo-provider: opaque tokens are created
 * (`POST /tokens`, `GET /token`), used, listed, misused, and revoked by id
 * and by secret; the plain and plain_advanced augmenters run on every
 * success.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TestGateway } from "../support/gateway.ts";
import { basicSecrets, type LeakCase } from "./leak_case.ts";

const OWNER = "alice:store-owner-pw-6e1f3a9c";
const WRONG = "alice:store-wrong-pw-0d9c8b7a";

/** `path` with Basic `OWNER` (or `authorization`); the body is read. */
async function call(
  gw: TestGateway,
  path: string,
  init: { method?: string; authorization?: string; body?: string } = {},
): Promise<{ status: number; body: string; issued: string | null }> {
  const headers: Record<string, string> = {
    authorization: init.authorization ?? `Basic ${btoa(OWNER)}`,
  };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const { res, body } = await gw.request(path, { method: init.method, headers, body: init.body });
  return { status: res.status, body, issued: res.headers.get("authorization") };
}

/** Creates, uses, lists and revokes tokens; every token and issued JWT joins `secrets`. */
async function tokenTraffic(gw: TestGateway, secrets: string[]): Promise<void> {
  const created = await call(gw, "/tokens", { method: "POST", body: '{"name":"ci robot"}' });
  assert.equal(created.status, 200, created.body);
  const first = JSON.parse(created.body) as { token: string; id: string };
  const legacy = await call(gw, "/token");
  assert.equal(legacy.status, 200, legacy.body);
  const second = JSON.parse(legacy.body) as { token: string; id: string };
  const near = second.token.slice(0, -1) + (second.token.endsWith("A") ? "B" : "A");
  secrets.push(first.token, second.token, near, `Bearer ${first.token}`);

  const use = async (token: string, status: number) => {
    const res = await call(gw, "/authenticate", { authorization: `Bearer ${token}` });
    assert.equal(res.status, status, `${token} → ${res.status}`);
    if (res.issued !== null) secrets.push(res.issued, res.issued.slice("Bearer ".length));
  };
  await use(first.token, 200);
  await use(second.token, 200);
  await use(near, 401);
  const listed = await call(gw, "/tokens");
  assert.equal(listed.status, 200);
  assert.ok(!listed.body.includes(first.token) && !listed.body.includes(second.token));
  const byToken = await call(gw, "/tokens", {
    method: "POST",
    authorization: `Bearer ${first.token}`,
  });
  assert.equal(byToken.status, 403, "a token cannot create tokens");
  assert.equal((await call(gw, `/token/${first.id}`, { method: "DELETE" })).status, 204);
  await use(first.token, 401);
  assert.equal((await call(gw, `/token/${second.token}`, { method: "DELETE" })).status, 204);
  await use(second.token, 401);
  assert.equal((await call(gw, `/token/${second.token}`, { method: "DELETE" })).status, 404);
}

/** The token store and the `token-store` provider, with the plain augmenter. */
export const TOKEN_STORE_CASE: LeakCase = {
  name: "token store (Deno KV): create, use, list, revoke by id and by secret",
  covers: ["token-store", "augmenters/plain", "augmenters/plain-advanced"],
  async setup() {
    const dir = await Deno.makeTempDir({ prefix: "aot-leak-kv-" });
    const fake = `aot_${"Q".repeat(43)}`;
    return {
      providers: `
  - type: plain
    name: demo-users
    realm: demo
    users:
      - { username: alice, password: ${OWNER.slice(6)}, roles: [user] }`,
      augmenters: `
  - { type: plain, name: admins, realm: demo, roles: { admin: [alice] } }
  - type: plain_advanced
    name: auditors
    realm: demo
    match: { role: [admin] }
    augment: { roles: [auditor], attributes: { team: audit } }`,
      store: `{ enabled: true, path: "${dir}/tokens.kv", default_ttl: 600, max_ttl: 3600 }`,
      steps: [
        { authorization: `Basic ${btoa(OWNER)}`, status: 200 },
        { authorization: `Basic ${btoa(WRONG)}`, status: 401 },
        { authorization: `Bearer ${fake}`, status: 401 },
      ],
      secrets: [...basicSecrets(OWNER), ...basicSecrets(WRONG), fake],
      drive: tokenTraffic,
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  },
};
