/**
 * Catalogue 2.6 (R01–R08): `X-Auth-Realm` abuse.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

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
  // A non-ASCII realm (fullwidth "ｐｕｂｌｉｃ" as UTF-8 bytes) counts as absent (spec 3.3):
  // exactly what omitting the header gives, so it widens nothing; NGINX sets the header (R01).
  const fullwidth = String.fromCharCode(...new TextEncoder().encode("ｐｕｂｌｉｃ"));
  const absent = await gw.request("/authenticate", { headers: { authorization } });
  const odd = await gw.request("/authenticate", {
    headers: { authorization, "x-auth-realm": fullwidth },
  });
  assert.equal(odd.res.status, absent.res.status);
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
