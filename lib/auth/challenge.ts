/**
 * Builds the `WWW-Authenticate` challenge of a 401 (spec 3.4), with realm
 * values escaped so a `"` cannot break the header.
 *
 * @module
 */

/** One provider's contribution to the challenge. */
export interface ChallengeSource {
  /** `Basic` or `Bearer`. */
  readonly scheme: string;
  /** The filter realm; providers without one contribute nothing. */
  readonly realm: string | undefined;
}

/** Escapes a realm as an RFC 9110 quoted-string, dropping bytes a header cannot hold. */
export function quoteRealm(realm: string): string {
  const safe = realm.replace(/[^\t\x20-\x7e]/g, "");
  return `"${safe.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * Lists `<Scheme> realm="<realm>"` per provider in config order, without
 * duplicate pairs, joined by `", "`; just `Bearer` when nothing contributes.
 */
export function buildChallenge(sources: readonly ChallengeSource[]): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const { scheme, realm } of sources) {
    if (realm === undefined) continue;
    const part = `${scheme} realm=${quoteRealm(realm)}`;
    if (seen.has(part)) continue;
    seen.add(part);
    parts.push(part);
  }
  return parts.length > 0 ? parts.join(", ") : "Bearer";
}
