/**
 * The small test directory that {@linkcode startSlapd} loads: users in nested
 * OUs under `ou=people`, groups in nested OUs under `ou=groups` whose DNs
 * exercise the LDAP augmenter's role rules (spec 6.4), and a service account
 * that may search.
 *
 * Users (cn = username, objectClass inetOrgPerson, password `<name>pw`):
 * alice (admins, users, SomeRole), bob (users), carol (no groups),
 * `dave (ops)` (users; parentheses break an unescaped filter),
 * `eve*` (OtherRole; `*` turns an unescaped filter into a wildcard),
 * frank (SomeRole, OtherRole).
 *
 * @module
 */

/** The directory's base DN. */
export const LDAP_SUFFIX = "dc=example,dc=org";

/** The service account the gateway binds with (may read everything but passwords). */
export const LDAP_SERVICE_ACCOUNT = {
  dn: `cn=gateway,ou=services,${LDAP_SUFFIX}`,
  password: "gatewaypw",
} as const;

/**
 * How `memberOf` values look. `overlay`: maintained by OpenLDAP's memberof
 * overlay, which always prints the DN with lowercase attribute types
 * (`cn=SomeRole,ou=TeamB,...`). `active-directory`: stored as plain strings in
 * Active Directory's style (`CN=SomeRole,OU=TeamB,...,DC=org`), which the
 * spec's case-sensitive `CN=` rule expects.
 */
export type MemberOfStyle = "overlay" | "active-directory";

/** A user of the test directory, with the `memberOf` values the server returns. */
export interface LdapTestUser {
  /** The username (= `cn`). */
  cn: string;
  /** Full DN of the entry. */
  dn: string;
  /** Cleartext password (stored as {SSHA}). */
  password: string;
  /** Expected `memberOf` values, in the served style. */
  memberOf: string[];
}

/** An entry for `ldapts` `Client.add`. */
export interface LdapEntry {
  /** Entry DN. */
  dn: string;
  /** Attribute values. */
  attributes: Record<string, string | string[]>;
}

/** Groups: cn and the OUs between the group and `ou=groups`, leaf first. */
const GROUPS = {
  admins: [],
  users: [],
  SomeRole: ["TeamB", "TeamA"],
  OtherRole: ["TeamC", "TeamB", "TeamA"],
} satisfies Record<string, string[]>;

type GroupName = keyof typeof GROUPS;

/** Users: OUs under `ou=people` (leaf first) and group memberships. */
const USERS: { cn: string; ous: string[]; groups: GroupName[] }[] = [
  { cn: "alice", ous: ["research"], groups: ["admins", "users", "SomeRole"] },
  { cn: "bob", ous: [], groups: ["users"] },
  { cn: "carol", ous: [], groups: [] },
  { cn: "dave (ops)", ous: ["ops", "research"], groups: ["users"] },
  { cn: "eve*", ous: ["contractors"], groups: ["OtherRole"] },
  { cn: "frank", ous: ["research"], groups: ["SomeRole", "OtherRole"] },
];

/** `ou=TeamB,ou=TeamA,` for `["TeamB", "TeamA"]` (leaf first). */
function ouPath(ous: string[], key = "ou"): string {
  return ous.map((ou) => `${key}=${ou},`).join("");
}

function userDn(user: { cn: string; ous: string[] }): string {
  return `cn=${user.cn},${ouPath(user.ous)}ou=people,${LDAP_SUFFIX}`;
}

/** The DN of a group as `memberOf` shows it in the given style. */
function groupDn(name: GroupName, style: MemberOfStyle): string {
  const ous = GROUPS[name];
  if (style === "overlay") {
    return `cn=${name},${ouPath(ous)}ou=groups,${LDAP_SUFFIX}`;
  }
  return `CN=${name},${ouPath(ous, "OU")}OU=groups,${LDAP_SUFFIX.replaceAll("dc=", "DC=")}`;
}

/** Password of a user: the first word of the cn without special characters, plus `pw`. */
function passwordOf(cn: string): string {
  return `${cn.replace(/[^a-z].*$/, "")}pw`;
}

/** The users of the directory, keyed by username, with `memberOf` as served in `style`. */
export function ldapUsers(style: MemberOfStyle): Record<string, LdapTestUser> {
  return Object.fromEntries(USERS.map((user) => [user.cn, {
    cn: user.cn,
    dn: userDn(user),
    password: passwordOf(user.cn),
    memberOf: user.groups.map((group) => groupDn(group, style)),
  }]));
}

/** `{SSHA}` hash of a password, the format slappasswd produces. */
export async function sshaHash(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(8));
  const input = new Uint8Array([...new TextEncoder().encode(password), ...salt]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", input));
  return `{SSHA}${btoa(String.fromCharCode(...digest, ...salt))}`;
}

function ouEntry(dn: string, ou: string): LdapEntry {
  return { dn, attributes: { objectClass: "organizationalUnit", ou } };
}

/** Every OU entry needed for the given leaf-first OU lists below `parent`. */
function ouEntries(parent: string, lists: string[][]): LdapEntry[] {
  const seen = new Map<string, LdapEntry>();
  for (const ous of lists) {
    for (let i = ous.length - 1; i >= 0; i--) {
      const dn = `${ouPath(ous.slice(i))}${parent}`;
      if (!seen.has(dn)) seen.set(dn, ouEntry(dn, ous[i]));
    }
  }
  return [...seen.values()];
}

/**
 * All entries of the test directory in add order. In `active-directory`
 * style users carry `memberOf` strings (auxiliary class `authotronAdUser`,
 * defined by startSlapd's extra schema); in `overlay` style slapd fills it.
 */
export async function ldapEntries(style: MemberOfStyle): Promise<LdapEntry[]> {
  const people = `ou=people,${LDAP_SUFFIX}`;
  const groups = `ou=groups,${LDAP_SUFFIX}`;
  const users = ldapUsers(style);
  const entries: LdapEntry[] = [
    {
      dn: LDAP_SUFFIX,
      attributes: {
        objectClass: ["dcObject", "organization"],
        dc: "example",
        o: "Auth-O-Tron test directory",
      },
    },
    ouEntry(people, "people"),
    ...ouEntries(people, USERS.map((u) => u.ous)),
    ouEntry(groups, "groups"),
    ...ouEntries(groups, Object.values(GROUPS)),
    ouEntry(`ou=services,${LDAP_SUFFIX}`, "services"),
    {
      dn: LDAP_SERVICE_ACCOUNT.dn,
      attributes: {
        objectClass: ["organizationalRole", "simpleSecurityObject"],
        cn: "gateway",
        userPassword: await sshaHash(LDAP_SERVICE_ACCOUNT.password),
      },
    },
  ];
  for (const user of Object.values(users)) {
    const ad = style === "active-directory" && user.memberOf.length > 0;
    entries.push({
      dn: user.dn,
      attributes: {
        objectClass: ["inetOrgPerson", ...(ad ? ["authotronAdUser"] : [])],
        cn: user.cn,
        sn: user.cn,
        userPassword: await sshaHash(user.password),
        ...(ad ? { memberOf: user.memberOf } : {}),
      },
    });
  }
  for (const name of Object.keys(GROUPS) as GroupName[]) {
    const members = USERS.filter((u) => u.groups.includes(name)).map(userDn);
    entries.push({
      dn: `cn=${name},${ouPath(GROUPS[name])}${groups}`,
      attributes: { objectClass: "groupOfNames", cn: name, member: members },
    });
  }
  return entries;
}
