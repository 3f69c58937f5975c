/**
 * Reads the LDAP augmenter's secrets at startup: the bind password from the
 * YAML, an environment variable or a file, and the CA file. Errors name the
 * key and never quote a secret.
 *
 * @module
 */

import { OptionsError } from "../../lib/plugin.ts";
import type { LdapOptions } from "./options.ts";

/** The secrets and files {@link loadLdapSecrets} reads at startup. */
export interface LdapSecrets {
  /** The bind password (never logged). */
  readonly password: string;
  /** The CA PEM text, when `ca_file` was given. */
  readonly caPem: string | undefined;
}

async function readFileOption(key: string, path: string, configUrl: URL): Promise<string> {
  const url = new URL(path, configUrl);
  try {
    return await Deno.readTextFile(url);
  } catch (error) {
    const reason = error instanceof Error ? error.name : "error";
    throw new OptionsError([key], `cannot read ${url.pathname} (${reason})`);
  }
}

/**
 * Reads the bind password (from the YAML, an environment variable or a file
 * resolved against `configUrl`, one trailing newline dropped) and the CA
 * file. Throws {@link OptionsError} naming the key; never quotes a secret.
 */
export async function loadLdapSecrets(options: LdapOptions, configUrl: URL): Promise<LdapSecrets> {
  const source = options.password;
  let password: string;
  if (source.key === "ldap_password") {
    password = source.value;
  } else if (source.key === "ldap_password_env") {
    const value = Deno.env.get(source.name);
    if (value === undefined) {
      throw new OptionsError([source.key], `environment variable ${source.name} is not set`);
    }
    password = value;
  } else {
    password = (await readFileOption(source.key, source.path, configUrl)).replace(/\r?\n$/, "");
  }
  if (password === "") {
    // An empty simple-bind password is an unauthenticated bind (RFC 4513 5.1.2).
    throw new OptionsError([source.key], "the bind password is empty");
  }
  const caPem = options.caFile === undefined
    ? undefined
    : await readFileOption("ca_file", options.caFile, configUrl);
  if (caPem !== undefined && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new OptionsError(["ca_file"], "expected PEM certificates");
  }
  return { password, caPem };
}
