import assert from "node:assert/strict";
import {
  dnComponents,
  extractCn,
  LdapFilterError,
  matchPath,
  parsePathFilter,
  roleRule,
  rolesFromDn,
  rolesFromMemberOf,
} from "../../augmenters/_ldap/roles.ts";
import { escapeFilterValue, personFilter } from "../../augmenters/_ldap/filter.ts";

const DN = "CN=SomeRole,OU=TeamB,OU=TeamA,DC=example,DC=com";
const paths = (...filters: string[]) => roleRule(undefined, filters);

Deno.test("extractCn() takes the first part whose key is exactly CN", () => {
  assert.equal(extractCn("CN=SomeRole,OU=SomeOU,DC=example,DC=com"), "SomeRole");
  assert.equal(extractCn("OU=SomeOU,DC=example,DC=com"), undefined);
  assert.equal(extractCn("OU=SomeOU,CN=RoleA,CN=RoleB,DC=example,DC=com"), "RoleA");
  assert.equal(extractCn("cn=lower,OU=x"), undefined, "lowercase cn= does not count");
  assert.equal(extractCn("OU=x, CN=spaced"), undefined, "an untrimmed ' CN=' does not count");
  assert.equal(extractCn("CN=a=b,OU=x"), "a=b", "split at the first '='");
});

Deno.test("dnComponents() splits on ',' and the first '=', trims, drops empty parts", () => {
  assert.deepEqual(dnComponents("OU=TeamA,CN=Role"), [["OU", "TeamA"], ["CN", "Role"]]);
  assert.deepEqual(dnComponents(" OU = TeamA , junk, =x, y=, ,CN=R"), [["OU", "TeamA"], [
    "CN",
    "R",
  ]]);
  assert.deepEqual(dnComponents(""), []);
});

Deno.test("parsePathFilter() rejects a filter without key=value segments", () => {
  assert.throws(
    () => parsePathFilter("Invalid"),
    (e: unknown) =>
      e instanceof LdapFilterError && e.code === "ERR_LDAP_FILTER" &&
      e.message === "Invalid LDAP filter 'Invalid': expected key=value segments",
  );
  assert.throws(() => roleRule(undefined, ["Invalid", "OU=TeamB"]), LdapFilterError);
  assert.throws(() => roleRule(undefined, [" , ="]), LdapFilterError);
  assert.deepEqual(parsePathFilter("OU=TeamA,OU=TeamB"), [["OU", "TeamA"], ["OU", "TeamB"]]);
});

Deno.test("rolesFromDn() with neither filter nor filters gives the CN", () => {
  assert.deepEqual(rolesFromDn(DN, roleRule(undefined, undefined)), ["SomeRole"]);
  assert.deepEqual(rolesFromDn("OU=NoCn,DC=x", roleRule(undefined, undefined)), []);
});

Deno.test("rolesFromDn() with filter keeps the CN when the DN contains it (case-sensitive)", () => {
  const rule = roleRule("TeamA", undefined);
  assert.deepEqual(rolesFromDn("CN=SomeRole,OU=TeamA,DC=example,DC=com", rule), ["SomeRole"]);
  assert.deepEqual(rolesFromDn("CN=SomeRole,OU=teama,DC=example,DC=com", rule), []);
  assert.deepEqual(
    rolesFromDn("CN=X,OU=TeamAB", rule),
    ["X"],
    "a plain substring, not a component",
  );
  assert.deepEqual(rolesFromDn("OU=TeamA,DC=x", rule), [], "no CN, no role");
});

Deno.test("rolesFromDn() with filters gives /ancestor/…/CN paths (spec 6.4 examples)", () => {
  assert.deepEqual(rolesFromDn(DN, paths("OU=TeamA")), ["/TeamA/TeamB/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths("OU=TeamB")), ["/TeamB/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths("OU=TeamA", "OU=TeamB")), [
    "/TeamA/TeamB/SomeRole",
    "/TeamB/SomeRole",
  ]);
  assert.deepEqual(rolesFromDn(DN, paths("OU=TeamA,OU=TeamB")), ["/TeamA/TeamB/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths("OU=TeamB,OU=TeamA")), ["/TeamA/TeamB/SomeRole"]);
  const deeper = "CN=SomeRole,OU=TeamC,OU=TeamB,OU=TeamA,DC=example,DC=com";
  assert.deepEqual(rolesFromDn(deeper, paths("OU=TeamA,OU=TeamC")), [], "not contiguous");
  assert.deepEqual(rolesFromDn("CN=SomeRole,OU=TeamC,DC=example,DC=com", paths("OU=TeamA")), []);
});

Deno.test("rolesFromDn() filters: case-insensitive match, DN's spelling in the role, one role per filter", () => {
  assert.deepEqual(rolesFromDn(DN, paths("ou = teama")), ["/TeamA/TeamB/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths("CN=SomeRole")), ["/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths("DC=com")), ["/com/example/TeamA/TeamB/SomeRole"]);
  assert.deepEqual(rolesFromDn(DN, paths()), [], "an empty filters list yields nothing");
  assert.deepEqual(
    rolesFromDn("OU=TeamA,DC=com", paths("OU=TeamA")),
    [],
    "a DN without CN yields nothing, even with filters",
  );
  assert.deepEqual(
    rolesFromDn("cn=SomeRole,ou=TeamB,ou=TeamA,dc=example,dc=com", paths("OU=TeamA")),
    [],
    "lowercase cn= (OpenLDAP memberof overlay) has no CN by the spec's rule",
  );
});

Deno.test("matchPath() tries the filter as written, then reversed", () => {
  const dn = dnComponents("CN=R,OU=B,OU=A,DC=x");
  assert.equal(matchPath(dn, parsePathFilter("OU=B,OU=A")), "/A/B/R");
  assert.equal(matchPath(dn, parsePathFilter("OU=A,OU=B")), "/A/B/R");
  assert.equal(matchPath(dn, parsePathFilter("OU=A,OU=B,OU=C,DC=x,CN=R,OU=Z")), undefined);
});

Deno.test("rolesFromMemberOf() keeps order and removes duplicates", () => {
  const values = [DN, "CN=Other,OU=TeamA,DC=example,DC=com", DN];
  assert.deepEqual(rolesFromMemberOf(values, roleRule(undefined, undefined)), [
    "SomeRole",
    "Other",
  ]);
  assert.deepEqual(rolesFromMemberOf(values, paths("OU=TeamA", "ou=teama")), [
    "/TeamA/TeamB/SomeRole",
    "/TeamA/Other",
  ]);
});

Deno.test("escapeFilterValue() escapes the RFC 4515 specials and nothing else", () => {
  assert.equal(escapeFilterValue("*"), "\\2a");
  assert.equal(escapeFilterValue(")(cn=*"), "\\29\\28cn=\\2a");
  assert.equal(escapeFilterValue("\\"), "\\5c");
  assert.equal(escapeFilterValue("a\0b"), "a\\00b");
  assert.equal(escapeFilterValue("("), "\\28");
  assert.equal(escapeFilterValue("\\2a"), "\\5c2a", "an escape sequence stays literal");
  assert.equal(escapeFilterValue("dave (ops)"), "dave \\28ops\\29");
  assert.equal(escapeFilterValue("jöhn.doe@x"), "jöhn.doe@x");
});

Deno.test("personFilter() builds the original's filter with the username escaped", () => {
  assert.equal(personFilter("alice"), "(&(objectClass=person)(cn=alice))");
  assert.equal(
    personFilter("*)(|(cn=*"),
    "(&(objectClass=person)(cn=\\2a\\29\\28|\\28cn=\\2a))",
  );
});
