/**
 * Secret-leak case for the `ldap` augmenter (real slapd): the service
 * account's bind password, a wrong bind password, and an unreachable
 * directory, behind Basic users of the plain provider.
 *
 * @module
 */

import { Attribute, Change, Client } from "ldapts";
import { sshaHash } from "../support/ldap_directory.ts";
import { startSlapd } from "../support/slapd.ts";
import { closedPort } from "./helpers.ts";
import { basicSecrets, type LeakCase } from "./leak_case.ts";

const BIND_PASSWORD = "ldap-bind-pw-2b7e9f41c3";
const WRONG_BIND_PASSWORD = "ldap-wrong-bind-pw-8d6a4c";
const USERS = ["alice:ldap-alice-pw-71c3e5", "carol:ldap-carol-pw-9a0b2d"];

/** Gives the service account `password` (the directory's default is a short, guessable one). */
async function setBindPassword(url: string, admin: [string, string], dn: string, password: string) {
  const client = new Client({ url });
  try {
    await client.bind(...admin);
    const values = [await sshaHash(password)];
    await client.modify(
      dn,
      new Change({
        operation: "replace",
        modification: new Attribute({ type: "userPassword", values }),
      }),
    );
  } finally {
    await client.unbind();
  }
}

/** `ldap` against slapd: right password (realm corp), wrong one and refused (realm corp2). */
export const LDAP_CASE: LeakCase = {
  name: "ldap augmenter (bind password; wrong password and refused directory)",
  covers: ["augmenters/ldap"],
  needs: ["slapd"],
  async setup() {
    const ldap = await startSlapd({ memberOf: "active-directory" });
    await setBindPassword(ldap.url, [ldap.adminDn, ldap.adminPassword], ldap.bindDn, BIND_PASSWORD);
    const dead = `ldap://127.0.0.1:${await closedPort()}`;
    const augmenter = (name: string, realm: string, uri: string, password: string) => `
  - type: ldap
    name: ${name}
    realm: ${realm}
    uri: ${uri}
    search_base: ${ldap.searchBase}
    bind_dn: ${ldap.bindDn}
    ldap_password: ${password}`;
    const users = (realm: string) => `
  - type: plain
    name: users-${realm}
    realm: ${realm}
    users:
${
      USERS.map((u) => `      - { username: ${u.split(":")[0]}, password: ${u.split(":")[1]} }`)
        .join("\n")
    }`;
    const basic = (userPass: string) => `Basic ${btoa(userPass)}`;
    return {
      providers: users("corp") + users("corp2") + users("corp3"),
      augmenters: augmenter("directory", "corp", ldap.url, BIND_PASSWORD) +
        augmenter("wrongbind", "corp2", ldap.url, WRONG_BIND_PASSWORD) +
        augmenter("gone", "corp3", dead, BIND_PASSWORD),
      steps: [
        { authorization: basic(USERS[0]), realm: "corp", status: 200 },
        { authorization: basic(USERS[1]), realm: "corp", status: 200 },
        { authorization: basic("alice:ldap-wrong-user-pw-4f"), realm: "corp", status: 401 },
        { authorization: basic(USERS[0]), realm: "corp2", status: 200 }, // on_error: skip
        { authorization: basic(USERS[1]), realm: "corp3", status: 200 },
      ],
      secrets: [
        BIND_PASSWORD,
        WRONG_BIND_PASSWORD,
        ...[...USERS, "alice:ldap-wrong-user-pw-4f"].flatMap(basicSecrets),
      ],
      [Symbol.asyncDispose]: () => ldap[Symbol.asyncDispose](),
    };
  },
};
