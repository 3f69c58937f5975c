/**
 * Claim checks and the user mapping of spec 5.2 steps 6–8, applied after the
 * signature has been verified: `exp` (required, with leeway), the optional
 * `nbf`/`iss`/`aud` checks, the required `sub` and `scope`, then roles,
 * attributes and scopes exactly as the original builds them.
 *
 * @module
 */

import type { User } from "../../lib/plugin.ts";
import { hasDuplicateKeys } from "./json_strict.ts";

/** The claim checks to apply. */
export interface ClaimPolicy {
  /** Leeway for `exp` and `nbf`, in seconds. */
  readonly clockSkewS: number;
  /** Check `nbf` when present. */
  readonly checkNbf: boolean;
  /** Require a string `scope`. */
  readonly requireScope: boolean;
  /** Accepted issuers; unset means `iss` is not checked. */
  readonly issuers?: readonly string[];
  /** Accepted audiences; unset means `aud` is not checked. */
  readonly audiences?: readonly string[];
  /**
   * Longest `exp − iat` accepted, in seconds. When set, `iat` must be a number
   * no later than now plus the leeway. Unset: `iat` is not checked (spec 5.2).
   */
  readonly maxLifetimeS?: number;
}

/** Claims that do not become attributes. */
const NOT_ATTRIBUTES = new Set(["sub", "scope", "realm_access", "resource_access", "entitlements"]);

/** Strict UTF-8; a byte-order mark is kept, so JSON.parse refuses it (J27). */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Parses a verified payload as a JSON object; `undefined` when it is not one
 * or repeats a member name anywhere (J26: parsers disagree on which one wins).
 */
export function parseClaims(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const text = utf8.decode(payload);
    const claims: unknown = JSON.parse(text);
    return isRecord(claims) && !hasDuplicateKeys(text) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Why claims were refused, or `undefined` when they pass. `now` is epoch seconds. */
export function claimProblem(
  claims: Record<string, unknown>,
  policy: ClaimPolicy,
  now: number,
): string | undefined {
  const { exp, nbf, iat, iss, aud } = claims;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return "exp missing or not a number";
  if (exp < now - policy.clockSkewS) return "expired";
  if (policy.maxLifetimeS !== undefined) {
    if (typeof iat !== "number" || !Number.isFinite(iat)) return "iat missing or not a number";
    if (iat > now + policy.clockSkewS) return "issued in the future (iat)";
    if (exp - iat > policy.maxLifetimeS) return "lifetime above max_token_lifetime_s";
  }
  if (policy.checkNbf && nbf !== undefined) {
    if (typeof nbf !== "number" || !Number.isFinite(nbf)) return "nbf not a number";
    if (nbf > now + policy.clockSkewS) return "not yet valid (nbf)";
  }
  if (policy.issuers && !(typeof iss === "string" && policy.issuers.includes(iss))) {
    return "unexpected issuer";
  }
  if (policy.audiences) {
    const list = typeof aud === "string" ? [aud] : isStringArray(aud) ? aud : [];
    if (!list.some((a) => policy.audiences!.includes(a))) return "unexpected audience";
  }
  if (typeof claims.sub !== "string") return "sub missing or not a string";
  if (claims.scope !== undefined && typeof claims.scope !== "string") return "scope not a string";
  if (policy.requireScope && typeof claims.scope !== "string") return "scope missing";
  return undefined;
}

/** `{ roles: [...] }` → the roles; `undefined` when malformed. */
function rolesOf(access: unknown): string[] | undefined {
  return isRecord(access) && isStringArray(access.roles) ? access.roles : undefined;
}

/** realm_access.roles, entitlements, then resource_access clients by name; `undefined` if malformed. */
function collectRoles(claims: Record<string, unknown>): string[] | undefined {
  const roles: string[] = [];
  if (claims.realm_access !== undefined && claims.realm_access !== null) {
    const realmRoles = rolesOf(claims.realm_access);
    if (realmRoles === undefined) return undefined;
    roles.push(...realmRoles);
  }
  if (claims.entitlements !== undefined && claims.entitlements !== null) {
    if (!isStringArray(claims.entitlements)) return undefined;
    roles.push(...claims.entitlements);
  }
  const resources = claims.resource_access;
  if (resources !== undefined && resources !== null) {
    if (!isRecord(resources)) return undefined;
    for (const client of Object.keys(resources).sort()) {
      const clientRoles = rolesOf(resources[client]);
      if (clientRoles === undefined) return undefined;
      roles.push(...clientRoles);
    }
  }
  return roles;
}

/** A claim value as the original stringifies it, without control characters. */
function attributeText(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "null";
  return text.replace(/\p{Cc}/gu, "");
}

/**
 * The user of spec 5.2 step 8, or `undefined` when `realm_access`,
 * `entitlements` or a `resource_access` entry is malformed.
 */
export function userFromClaims(
  claims: Record<string, unknown>,
  providerName: string,
): User | undefined {
  const roles = collectRoles(claims);
  if (roles === undefined) return undefined;
  const username = typeof claims.preferred_username === "string"
    ? claims.preferred_username
    : claims.sub as string;
  // Object.fromEntries defines own data properties, so `__proto__` stays a plain key.
  const attributes: Record<string, string> = Object.fromEntries(
    Object.entries(claims)
      .filter(([name]) => !NOT_ATTRIBUTES.has(name))
      .map(([name, value]) => [name, attributeText(value)]),
  );
  const scopes: Record<string, string[]> = typeof claims.scope === "string"
    ? { [providerName]: claims.scope.split(/\s+/).filter(Boolean) }
    : {};
  return { username, roles, attributes, scopes };
}
