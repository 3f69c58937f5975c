/**
 * A throw-away OpenLDAP server (Debian `slapd`) for system tests: temp dir,
 * minimal `slapd.conf` (mdb, memberof + refint overlays), free port(s) on
 * 127.0.0.1, optional ldaps:// and StartTLS with a private CA, and the test
 * directory from `ldap_directory.ts`.
 *
 * ```ts
 * await using ldap = await startSlapd({ tls: true });
 * const client = new Client({ url: ldap.url });
 * await client.bind(ldap.bindDn, ldap.bindPassword);
 * ```
 *
 * @module
 */

import { Client } from "ldapts";
import {
  LDAP_SERVICE_ACCOUNT,
  LDAP_SUFFIX,
  ldapEntries,
  type LdapTestUser,
  ldapUsers,
  type MemberOfStyle,
  sshaHash,
} from "./ldap_directory.ts";
import {
  freePort,
  type ManagedProcess,
  removeDir,
  requireBinary,
  spawnLogged,
  tempDir,
  waitForPort,
} from "./system.ts";
import { createTestCertificates, type TestCertificates } from "./tls.ts";

/** Options for {@linkcode startSlapd}. */
export interface SlapdOptions {
  /** Also serve ldaps:// and StartTLS with a throw-away CA (needs openssl). */
  tls?: boolean;
  /** How `memberOf` values look (default `overlay`); see {@linkcode MemberOfStyle}. */
  memberOf?: MemberOfStyle;
}

/** A running test slapd. */
export interface SlapdServer {
  /** `ldap://127.0.0.1:PORT` (StartTLS works here when `tls` was set). */
  url: string;
  /** `ldaps://127.0.0.1:PORT` when `tls` was set. */
  ldapsUrl?: string;
  /** PEM file of the CA that signed the server certificate, when `tls` was set. */
  caFile?: string;
  /** The CA certificate as PEM text, when `tls` was set. */
  caPem?: string;
  /** Service account DN that may search (`cn=gateway,ou=services,dc=example,dc=org`). */
  bindDn: string;
  /** Its password. */
  bindPassword: string;
  /** `dc=example,dc=org`. */
  searchBase: string;
  /** The rootdn (full write access). */
  adminDn: string;
  /** The rootdn's password. */
  adminPassword: string;
  /** The directory's users by username, with the `memberOf` values served. */
  users: Record<string, LdapTestUser>;
  /** The temp dir holding config, database and `slapd.log`. */
  dir: string;
  /** Stops slapd and removes the temp dir. */
  stop(): Promise<void>;
}

const ADMIN_PASSWORD = "adminpw";

/** First existing directory of `candidates`. */
async function firstDir(candidates: string[], what: string): Promise<string> {
  for (const dir of candidates) {
    if (await Deno.stat(dir).then((s) => s.isDirectory, () => false)) return dir;
  }
  throw new Error(`slapd ${what} not found in ${candidates.join(", ")}`);
}

/** An attribute `memberOf` as a plain string, for the Active Directory style. */
const AD_SCHEMA = `attributetype ( 1.3.6.1.4.1.4203.666.11.771.1 NAME 'memberOf'
  DESC 'Active Directory style group DN, stored as a string (tests only)'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.3.6.1.4.1.4203.666.11.771.2 NAME 'authotronAdUser'
  AUXILIARY MAY memberOf )
`;

async function writeConfig(
  dir: string,
  style: MemberOfStyle,
  certs: TestCertificates | undefined,
): Promise<string> {
  const schemaDir = await firstDir(
    ["/etc/ldap/schema", "/etc/openldap/schema"],
    "schema directory",
  );
  const moduleDir = await firstDir(
    ["/usr/lib/ldap", "/usr/lib/openldap", "/usr/lib64/openldap", "/usr/libexec/openldap"],
    "module directory",
  );
  await Deno.mkdir(`${dir}/db`);
  if (style === "active-directory") await Deno.writeTextFile(`${dir}/ad.schema`, AD_SCHEMA);
  const overlay = style === "overlay";
  const lines = [
    ...["core", "cosine", "inetorgperson"].map((s) => `include ${schemaDir}/${s}.schema`),
    overlay ? "" : `include ${dir}/ad.schema`,
    `pidfile ${dir}/slapd.pid`,
    `argsfile ${dir}/slapd.args`,
    `modulepath ${moduleDir}`,
    "moduleload back_mdb",
    overlay ? "moduleload memberof" : "",
    "moduleload refint",
    ...(certs
      ? [
        `TLSCACertificateFile ${certs.caFile}`,
        `TLSCertificateFile ${certs.certFile}`,
        `TLSCertificateKeyFile ${certs.keyFile}`,
      ]
      : []),
    "database mdb",
    "maxsize 104857600",
    `suffix "${LDAP_SUFFIX}"`,
    `rootdn "cn=admin,${LDAP_SUFFIX}"`,
    `rootpw ${await sshaHash(ADMIN_PASSWORD)}`,
    `directory ${dir}/db`,
    "index objectClass eq",
    "index cn eq,sub",
    "index member,memberOf eq",
    ...(overlay
      ? [
        "overlay memberof",
        "memberof-group-oc groupOfNames",
        "memberof-member-ad member",
        "memberof-memberof-ad memberOf",
        "memberof-refint TRUE",
      ]
      : []),
    "overlay refint",
    "refint_attributes member",
    "access to attrs=userPassword by self write by anonymous auth by * none",
    `access to * by dn.exact="${LDAP_SERVICE_ACCOUNT.dn}" read by users read by * none`,
  ];
  const conf = `${dir}/slapd.conf`;
  await Deno.writeTextFile(conf, lines.filter(Boolean).join("\n") + "\n");
  return conf;
}

/** Adds the test directory as the rootdn and checks that `memberOf` is served. */
async function loadDirectory(url: string, style: MemberOfStyle): Promise<void> {
  const admin = new Client({ url });
  try {
    await admin.bind(`cn=admin,${LDAP_SUFFIX}`, ADMIN_PASSWORD);
    for (const entry of await ldapEntries(style)) await admin.add(entry.dn, entry.attributes);
  } finally {
    await admin.unbind();
  }
  const alice = ldapUsers(style).alice;
  const reader = new Client({ url });
  try {
    await reader.bind(LDAP_SERVICE_ACCOUNT.dn, LDAP_SERVICE_ACCOUNT.password);
    const { searchEntries } = await reader.search(LDAP_SUFFIX, {
      scope: "sub",
      filter: "(&(objectClass=person)(cn=alice))",
      attributes: ["memberOf"],
    });
    const served = [searchEntries[0]?.memberOf ?? []].flat().map(String).sort();
    if (served.join("|") !== [...alice.memberOf].sort().join("|")) {
      throw new Error(`memberOf not populated as expected for alice: ${JSON.stringify(served)}`);
    }
  } finally {
    await reader.unbind();
  }
}

/**
 * Starts slapd on free 127.0.0.1 ports with the test directory loaded (see
 * `ldap_directory.ts`). Throws `MissingBinaryError` without slapd (or without
 * openssl when `tls` is set). `await using` (or `stop()`) shuts it down.
 */
export async function startSlapd(
  options: SlapdOptions = {},
): Promise<SlapdServer & AsyncDisposable> {
  const slapd = requireBinary("slapd");
  const style = options.memberOf ?? "overlay";
  const dir = await tempDir("slapd");
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop("SIGTERM");
    await removeDir(dir);
  };
  try {
    const certs = options.tls ? await createTestCertificates(dir) : undefined;
    const conf = await writeConfig(dir, style, certs);
    const port = freePort();
    const tlsPort = certs ? freePort() : undefined;
    const url = `ldap://127.0.0.1:${port}`;
    const ldapsUrl = tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
    const listen = [url, ldapsUrl].filter(Boolean).map((u) => `${u}/`).join(" ");
    proc = await spawnLogged(slapd, {
      args: ["-f", conf, "-h", listen, "-d", "256"],
      logFile: `${dir}/slapd.log`,
    });
    await waitForPort(port, 30_000, proc);
    if (tlsPort) await waitForPort(tlsPort, 30_000, proc);
    await loadDirectory(url, style);
    return {
      url,
      ldapsUrl,
      caFile: certs?.caFile,
      caPem: certs?.caPem,
      bindDn: LDAP_SERVICE_ACCOUNT.dn,
      bindPassword: LDAP_SERVICE_ACCOUNT.password,
      searchBase: LDAP_SUFFIX,
      adminDn: `cn=admin,${LDAP_SUFFIX}`,
      adminPassword: ADMIN_PASSWORD,
      users: ldapUsers(style),
      dir,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    const log = proc ? `\nslapd.log:\n${await proc.logTail()}` : "";
    await stop();
    throw new Error(`startSlapd failed: ${error instanceof Error ? error.message : error}${log}`, {
      cause: error,
    });
  }
}
