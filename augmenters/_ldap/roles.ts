/**
 * The LDAP augmenter's role rules (spec 6.4), as the original's code does
 * them (its docs describe something else): the CN of each `memberOf` DN,
 * optionally kept only when the DN contains `filter`, or turned into
 * `/Ancestor/…/CN` paths by `filters` (DN fragments matched as a contiguous
 * window of DN components, in either orientation). Pure functions, no I/O.
 *
 * @module
 */

/** One `key=value` component of a DN, both sides trimmed. */
export type DnComponent = readonly [key: string, value: string];

/** How `memberOf` DNs become roles. */
export type RoleRule =
  | { readonly kind: "cn" }
  | { readonly kind: "substring"; readonly filter: string }
  | { readonly kind: "paths"; readonly filters: readonly (readonly DnComponent[])[] };

/** A `filters` entry without a single `key=value` component. */
export class LdapFilterError extends Error {
  /** Stable code. */
  readonly code = "ERR_LDAP_FILTER";
  /** Creates the error for the offending filter (quoted as written: it is config, not a secret). */
  constructor(filter: string) {
    super(`Invalid LDAP filter '${filter}': expected key=value segments`);
    this.name = "LdapFilterError";
  }
}

/**
 * The value of the first `,`-separated part whose key is exactly `CN`
 * (untrimmed, case-sensitive, as the original: `cn=` and ` CN=` do not
 * count), or `undefined`.
 */
export function extractCn(dn: string): string | undefined {
  for (const part of dn.split(",")) {
    const eq = part.indexOf("=");
    if (eq >= 0 && part.slice(0, eq) === "CN") return part.slice(eq + 1);
  }
  return undefined;
}

/**
 * Splits a DN (or a DN fragment) into trimmed `key=value` components in
 * written order (leaf first for a DN), dropping parts with an empty key or
 * value or without `=`.
 */
export function dnComponents(text: string): DnComponent[] {
  const components: DnComponent[] = [];
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key !== "" && value !== "") components.push([key, value]);
  }
  return components;
}

/** Parses one `filters` entry; throws {@link LdapFilterError} when it has no component. */
export function parsePathFilter(filter: string): DnComponent[] {
  const components = dnComponents(filter);
  if (components.length === 0) throw new LdapFilterError(filter);
  return components;
}

/** ASCII-only case folding (the original compares with `eq_ignore_ascii_case`). */
function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function sameComponent(a: DnComponent, b: DnComponent): boolean {
  return foldAscii(a[0]) === foldAscii(b[0]) && foldAscii(a[1]) === foldAscii(b[1]);
}

/**
 * Matches a parsed filter against a DN's components: the first contiguous
 * window equal to the filter as written, else reversed. Returns
 * `/` + the values from the window's highest ancestor down to the leaf,
 * or `undefined` when nothing matches.
 */
export function matchPath(
  dn: readonly DnComponent[],
  filter: readonly DnComponent[],
): string | undefined {
  for (const wanted of [filter, [...filter].reverse()]) {
    const length = wanted.length;
    if (length === 0 || length > dn.length) continue;
    for (let start = 0; start + length <= dn.length; start++) {
      if (wanted.every((component, i) => sameComponent(dn[start + i], component))) {
        const path = dn.slice(0, start + length).map(([, value]) => value).reverse();
        return `/${path.join("/")}`;
      }
    }
  }
  return undefined;
}

/**
 * The roles one `memberOf` DN yields under `rule`. A DN without an
 * uppercase `CN=` part yields nothing, whatever the rule.
 */
export function rolesFromDn(dn: string, rule: RoleRule): string[] {
  const cn = extractCn(dn);
  if (cn === undefined) return [];
  switch (rule.kind) {
    case "cn":
      return [cn];
    case "substring":
      return dn.includes(rule.filter) ? [cn] : [];
    case "paths": {
      const components = dnComponents(dn);
      const roles: string[] = [];
      for (const filter of rule.filters) {
        const role = matchPath(components, filter);
        if (role !== undefined) roles.push(role);
      }
      return roles;
    }
  }
}

/**
 * The rule for the `filter`/`filters` options: `filters` (even empty) wins
 * over `filter`; neither means "every CN". Throws {@link LdapFilterError}
 * for a malformed `filters` entry.
 */
export function roleRule(
  filter: string | undefined,
  filters: readonly string[] | undefined,
): RoleRule {
  if (filters !== undefined) return { kind: "paths", filters: filters.map(parsePathFilter) };
  if (filter !== undefined) return { kind: "substring", filter };
  return { kind: "cn" };
}

/** The roles of every `memberOf` value, in order, without duplicates. */
export function rolesFromMemberOf(values: Iterable<string>, rule: RoleRule): string[] {
  const roles = new Set<string>();
  for (const dn of values) for (const role of rolesFromDn(dn, rule)) roles.add(role);
  return [...roles];
}
