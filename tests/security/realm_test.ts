/**
 * Catalogue 2.6 (R01–R08): `X-Auth-Realm` abuse.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { rawStatusLine } from "../support/raw_http.ts";

const CONFIG = testConfig(`
providers:
  - type: plain
    name: local
    realm: public
    users: [{ username: alice, password: pw }]
`);

Deno.test("R02/R04/R06 unknown, hostile and look-alike realms are 401, never a fallback", async () => {
  await using gw = await startGateway(CONFIG);
  const authorization = basicAuth("alice:pw");
  const ok = await gw.request("/authenticate", {
    headers: { authorization, "x-auth-realm": "public" },
  });
  assert.equal(ok.res.status, 200);
  const realms = [
    "admin",
    "",
    "../public",
    "%70ublic",
    "public/x",
    "public ",
    " public\t",
    "p".repeat(10 * 1024),
    "public, admin",
  ];
  for (const realm of realms) {
    const { res } = await gw.request("/authenticate", {
      headers: { authorization, "x-auth-realm": realm },
    });
    // Deno trims leading/trailing whitespace of header values, so "public " arrives as "public".
    const expected = realm.trim() === "public" ? 200 : 401;
    assert.equal(res.status, expected, JSON.stringify(realm.slice(0, 20)));
  }
  // A non-ASCII realm (fullwidth "ｐｕｂｌｉｃ" as UTF-8 bytes) matches no provider (#22 F2;
  // the original treats it as absent, which widens the set); NGINX sets the header (R01).
  const fullwidth = String.fromCharCode(...new TextEncoder().encode("ｐｕｂｌｉｃ"));
  const odd = await gw.request("/authenticate", {
    headers: { authorization, "x-auth-realm": fullwidth },
  });
  assert.equal(odd.res.status, 401);
});

Deno.test("F2: a present but invalid X-Auth-Realm matches no provider (401), never widens the set", async () => {
  await using gw = await startGateway(testConfig(`
providers:
  - type: plain
    name: alpha-users
    realm: alpha
    users: [{ username: alice, password: pw }]
  - type: plain
    name: beta-users
    realm: beta
    users: [{ username: bob, password: pw }]
`));
  const authorization = basicAuth("alice:pw");
  const status = async (realm?: string) =>
    (await gw.request("/authenticate", {
      headers: realm === undefined ? { authorization } : { authorization, "x-auth-realm": realm },
    })).res.status;
  assert.equal(await status(), 200, "no header: every provider is eligible");
  assert.equal(await status("alpha"), 200);
  assert.equal(await status("beta"), 401);
  assert.equal(await status("beta\xe9"), 401, "an invalid value must not lift the restriction");
  assert.equal(await status("alpha\xe9"), 401, "nor match a realm it resembles");
  for (const path of ["/authenticate", "/whoami"]) {
    // `beta` and `\xff` as two headers: combined, the value is invalid.
    const line = await rawStatusLine(
      gw.running.appAddr.port,
      new Uint8Array([
        ...new TextEncoder().encode(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\n` +
            `X-Auth-Realm: beta\r\nX-Auth-Realm: `,
        ),
        0xff,
        ...new TextEncoder().encode("\r\nConnection: close\r\n\r\n"),
      ]),
    );
    assert.match(line, /^HTTP\/1\.1 401/, `${path}: ${line}`);
  }
});

Deno.test("R08 hostile realm values never become metric labels", async () => {
  await using gw = await startGateway(CONFIG);
  const authorization = basicAuth("alice:pw");
  for (const realm of ["evil-label-1", 'x"}foo{a="b', "evil-label-2"]) {
    await gw.request("/authenticate", { headers: { authorization, "x-auth-realm": realm } });
  }
  const metrics = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  assert.doesNotMatch(metrics, /evil-label|foo\{a/);
});
