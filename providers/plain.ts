/**
 * `plain` provider (spec 5.1): Basic credentials checked against users listed
 * in the config, either with a plaintext `password` or a `password_hash`
 * (PBKDF2-SHA256 in PHC form: `$pbkdf2-sha256$i=600000$<salt>$<hash>`, base64
 * without padding). Users are looked up by name; the password is compared as
 * a keyed digest of fixed length in constant time, so a check costs the same
 * for 3 or 100,000 users, and an unknown user costs the same as a wrong
 * password.
 *
 * @module
 */

import {
  createSecretDigest,
  decodeBasicCredential,
  defineProvider,
  OptionsError,
  type PluginOptions,
  timingSafeEqual,
} from "../lib/plugin.ts";
import { hashMatches, parsePasswordHash, type PasswordHash } from "./_shared/password_hash.ts";

/** One configured user. */
export interface PlainUser {
  /** Login name (exact, case-sensitive). */
  readonly username: string;
  /** Plaintext password, when no hash is given. */
  readonly password?: string;
  /** Parsed `password_hash`, when given. */
  readonly hash?: PasswordHash;
  /** Roles, in order. */
  readonly roles: readonly string[];
}

/** Options of the `plain` provider. */
export interface PlainOptions {
  /** The users. */
  readonly users: readonly PlainUser[];
}

function parseUser(raw: unknown, index: number): PlainUser {
  const at = (key?: string) => key === undefined ? ["users", index] : ["users", index, key];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new OptionsError(at(), "expected a user object { username, password, roles }");
  }
  const user = raw as Record<string, unknown>;
  if (typeof user.username !== "string") {
    throw new OptionsError(at("username"), "expected a string");
  }
  const hasPassword = user.password !== undefined && user.password !== null;
  const hasHash = user.password_hash !== undefined && user.password_hash !== null;
  if (hasPassword === hasHash) {
    throw new OptionsError(at("password"), "give exactly one of password or password_hash");
  }
  if (hasPassword && typeof user.password !== "string") {
    throw new OptionsError(at("password"), "expected a string");
  }
  let hash: PasswordHash | undefined;
  if (hasHash) {
    if (typeof user.password_hash !== "string") {
      throw new OptionsError(at("password_hash"), "expected a string");
    }
    hash = parsePasswordHash(user.password_hash);
    if (hash === undefined) {
      throw new OptionsError(
        at("password_hash"),
        "expected $pbkdf2-sha256$i=<iterations>$<salt>$<hash> (see `deno task hash-password`)",
      );
    }
  }
  const roles = user.roles ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
    throw new OptionsError(at("roles"), "expected a list of strings");
  }
  return {
    username: user.username,
    ...(hasPassword ? { password: user.password as string } : {}),
    ...(hash ? { hash } : {}),
    roles,
  };
}

/** The `plain` provider. */
export default defineProvider<PlainOptions>({
  scheme: "Basic",
  optionKeys: ["users"],
  parseOptions(options: PluginOptions): PlainOptions {
    const users = options.users ?? [];
    if (!Array.isArray(users)) throw new OptionsError(["users"], "expected a list of users");
    return { users: users.map(parseUser) };
  },
  create({ users }) {
    const hashed = users.filter((u) => u.hash !== undefined);
    // Unknown users of a hashed config still pay for one hash, with the strongest parameters.
    const decoy = hashed.reduce<PasswordHash | undefined>(
      (best, u) => best === undefined || u.hash!.iterations > best.iterations ? u.hash : best,
      undefined,
    );
    // Users by name, plaintext passwords kept as digests: a request compares one digest of
    // fixed length whatever the number of users and the lengths of the passwords.
    const digest = createSecretDigest();
    const byName = new Map<string, { user: PlainUser; password?: string }[]>();
    for (const user of users) {
      const entry = {
        user,
        password: user.password === undefined ? undefined : digest(user.password),
      };
      const same = byName.get(user.username);
      if (same === undefined) byName.set(user.username, [entry]);
      else same.push(entry);
    }
    // What an unknown user (or a malformed credential) is compared with: never matches.
    const nobody = [{ user: undefined, password: digest(crypto.randomUUID()) }];
    const answer = (match: PlainUser | undefined) =>
      match && { username: match.username, roles: [...match.roles] };
    return {
      // Synchronous without hashed users: the host then runs it without a timeout timer.
      authenticate(credential, ctx) {
        const decoded = decodeBasicCredential(credential);
        // A malformed credential does the work of a wrong password (timing, T01), then fails.
        const basic = decoded ?? { username: "", password: "" };
        const given = digest(basic.password);
        let match: PlainUser | undefined;
        let hashedCandidate: PlainUser | undefined;
        const named = byName.get(basic.username);
        for (const { user, password } of named ?? nobody) {
          if (password !== undefined) {
            if (timingSafeEqual(password, given) && match === undefined) match = user;
          } else if (hashedCandidate === undefined) {
            hashedCandidate = user;
          }
        }
        const settle = (found: PlainUser | undefined) => {
          // Only while a decision is explained (internal /explain, debug logs): why it was refused.
          if (found === undefined && ctx?.explain !== undefined) {
            ctx.explain(
              decoded === undefined
                ? "malformed credential"
                : named
                ? "wrong password"
                : "unknown user",
            );
          }
          return decoded === undefined ? undefined : answer(found);
        };
        if (decoy === undefined) return settle(match);
        const target = hashedCandidate?.hash ?? decoy;
        return hashMatches(target, basic.password).then((ok) =>
          settle(
            ok && hashedCandidate !== undefined && match === undefined ? hashedCandidate : match,
          )
        );
      },
    };
  },
});
