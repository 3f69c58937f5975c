/**
 * `plain_advanced` augmenter (spec 6.3): when the username is listed in
 * `match.username`, or the user has a role listed in `match.role`, append
 * `augment.roles` and upsert `augment.attributes`. Runs serially after the
 * other augmenters, so it sees the roles they added.
 *
 * @module
 */

import { defineAugmenter, OptionsError, type PluginOptions } from "../lib/plugin.ts";

/** Options of the `plain_advanced` augmenter. */
export interface PlainAdvancedOptions {
  /** Usernames that match. */
  readonly usernames: ReadonlySet<string>;
  /** Roles that match. */
  readonly roles: ReadonlySet<string>;
  /** Roles to add. */
  readonly addRoles: readonly string[];
  /** Attributes to upsert. */
  readonly attributes: Readonly<Record<string, string>>;
}

function stringList(value: unknown, path: (string | number)[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new OptionsError(path, "expected a list of strings");
  }
  return value;
}

function section(value: unknown, path: string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OptionsError(path, "expected a mapping");
  }
  return value as Record<string, unknown>;
}

/** The `plain_advanced` augmenter. */
export default defineAugmenter<PlainAdvancedOptions>({
  serial: true,
  optionKeys: ["match", "augment"],
  parseOptions(options: PluginOptions): PlainAdvancedOptions {
    const match = section(options.match, ["match"]);
    const augment = section(options.augment, ["augment"]);
    const attributes: Record<string, string> = {};
    const rawAttributes = augment.attributes ?? {};
    for (const [key, value] of Object.entries(section(rawAttributes, ["augment", "attributes"]))) {
      if (typeof value !== "string") {
        throw new OptionsError(["augment", "attributes", key], "expected a string");
      }
      Object.defineProperty(attributes, key, { value, enumerable: true, writable: true });
    }
    return {
      usernames: new Set(stringList(match.username, ["match", "username"])),
      roles: new Set(stringList(match.role, ["match", "role"])),
      addRoles: stringList(augment.roles, ["augment", "roles"]),
      attributes,
    };
  },
  create(options, context) {
    return {
      augment(user) {
        const matches = options.usernames.has(user.username) ||
          user.roles.some((role) => options.roles.has(role));
        if (!matches) return undefined;
        context.log.info("augmenters.plain_advanced.applied", "plain_advanced rule applied", {
          augmenter: context.name,
          username: user.username,
        });
        return { roles: [...options.addRoles], attributes: { ...options.attributes } };
      },
    };
  },
});
