import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { startGateway, testConfig } from "../support/gateway.ts";

const EXAMPLES = new URL("../../examples/plugins/", import.meta.url).pathname;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("examples: third-party provider and augmenter load by module: from YAML", async () => {
  const key = "example-api-key-123";
  await using gw = await startGateway(testConfig(`
providers:
  - module: ${EXAMPLES}static_api_keys.ts
    name: robots
    realm: machines
    keys:
      - { sha256: "${await sha256Hex(key)}", username: ci-robot, roles: [deployer] }
augmenters:
  - module: ${EXAMPLES}email_domain_roles.ts
    name: staff
    realm: machines
    domains: { example.org: [staff] }
  - type: plain_advanced
    name: mail
    realm: machines
    match: { username: [ci-robot] }
    augment: { attributes: { email: robot@example.org } }
`));
  const ok = await gw.request("/authenticate", { headers: { authorization: `Bearer ${key}` } });
  assert.equal(ok.res.status, 200);
  const claims = decodeJwt(ok.res.headers.get("authorization")!.slice(7));
  assert.equal(claims.username, "ci-robot");
  assert.deepEqual(claims.roles, ["deployer"]);
  const bad = await gw.request("/authenticate", { headers: { authorization: "Bearer wrong" } });
  assert.equal(bad.res.status, 401);
});

Deno.test("examples: the augmenter adds roles from the email domain", async () => {
  const fixtures = new URL("../fixtures/plugins/", import.meta.url).pathname;
  await using gw = await startGateway(testConfig(`
providers:
  - module: ${fixtures}test_bearer.ts
    name: idp
    realm: staff
    token: t
    username: ann
    attributes: { email: ann@Example.org }
augmenters:
  - module: ${EXAMPLES}email_domain_roles.ts
    name: staff
    realm: staff
    domains: { example.org: [staff] }
`));
  const { body } = await gw.request("/whoami", { headers: { authorization: "Bearer t" } });
  const user = JSON.parse(body);
  assert.deepEqual(user.roles, ["staff"]);
});
