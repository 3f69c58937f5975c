/**
 * Turns what a provider returns into a complete user, and applies augmenter
 * patches to it. Plugins never mutate users; the host builds new ones here.
 *
 * @module
 */

import type { ResolvedUser, User, UserPatch } from "../mod.ts";

/** A provider returned something that is not a user. */
export class InvalidUserError extends Error {
  /** Stable code. */
  readonly code = "ERR_INVALID_USER";
  /** Creates the error; `detail` names the bad field. */
  constructor(detail: string) {
    super(`provider returned an invalid user: ${detail}`);
    this.name = "InvalidUserError";
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
}

/** Copies own entries with defineProperty, so a `__proto__` key stays data. */
function assignOwn<T>(target: Record<string, T>, source: Record<string, T>): Record<string, T> {
  for (const [k, v] of Object.entries(source)) {
    Object.defineProperty(target, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return target;
}

/** Validates a provider's user and fills in defaults; `realm` is the entry's realm. */
export function resolveUser(user: User, realm: string): ResolvedUser {
  if (typeof user !== "object" || user === null) throw new InvalidUserError("not an object");
  if (typeof user.username !== "string") throw new InvalidUserError("username");
  if (user.realm !== undefined && typeof user.realm !== "string") {
    throw new InvalidUserError("realm");
  }
  if (user.roles !== undefined && !isStringArray(user.roles)) throw new InvalidUserError("roles");
  if (user.attributes !== undefined && !isStringRecord(user.attributes)) {
    throw new InvalidUserError("attributes");
  }
  const scopes: Record<string, string[]> = {};
  if (user.scopes !== undefined) {
    if (typeof user.scopes !== "object" || user.scopes === null) {
      throw new InvalidUserError("scopes");
    }
    for (const [service, list] of Object.entries(user.scopes)) {
      if (!isStringArray(list)) throw new InvalidUserError("scopes");
      assignOwn(scopes, { [service]: [...list] });
    }
  }
  return {
    version: 1,
    username: user.username,
    realm: user.realm ?? realm,
    roles: [...(user.roles ?? [])],
    attributes: assignOwn({}, user.attributes ?? {}),
    scopes,
  };
}

/**
 * Appends the patch's roles the user does not have yet (in order, without
 * duplicates) and upserts its attributes. Returns a new user.
 */
export function applyPatch(user: ResolvedUser, patch: UserPatch | undefined): ResolvedUser {
  if (patch === undefined) return user;
  const roles = [...user.roles];
  if (isStringArray(patch.roles)) {
    const have = new Set(roles);
    for (const role of patch.roles) {
      if (!have.has(role)) {
        have.add(role);
        roles.push(role);
      }
    }
  }
  const attributes = assignOwn({}, user.attributes);
  if (isStringRecord(patch.attributes)) assignOwn(attributes, patch.attributes);
  return { ...user, roles, attributes };
}

/** The JSON of `/whoami` (spec 0): fields in the original's order. */
export function userToJson(user: ResolvedUser): string {
  return JSON.stringify({
    version: user.version,
    username: user.username,
    realm: user.realm,
    roles: user.roles,
    attributes: user.attributes,
    scopes: user.scopes,
  });
}
