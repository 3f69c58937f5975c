/**
 * RFC 4515 escaping for the LDAP augmenter's search filter. The original
 * put the username into the filter as is, so `*` matched every person.
 *
 * @module
 */

const SPECIAL: Readonly<Record<string, string>> = {
  "*": "\\2a",
  "(": "\\28",
  ")": "\\29",
  "\\": "\\5c",
  "\0": "\\00",
};

/**
 * Escapes an assertion value per RFC 4515 section 3: `*`, `(`, `)`, `\`
 * and NUL become `\XX`. Other characters (UTF-8 included) stay as they are,
 * which the RFC allows.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => SPECIAL[c]);
}

/** The search filter for a username: `(&(objectClass=person)(cn=<escaped>))`. */
export function personFilter(username: string): string {
  return `(&(objectClass=person)(cn=${escapeFilterValue(username)}))`;
}
