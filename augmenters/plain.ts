/**
 * `plain` augmenter (spec 6.2, deprecated): `roles` maps a role to the
 * usernames that get it. Prefer `plain_advanced`.
 *
 * @module
 */

import { defineAugmenter, OptionsError, type PluginOptions } from "../lib/plugin.ts";

/** Options of the `plain` augmenter. */
export interface PlainAugmenterOptions {
  /** Role → usernames, in config order. */
  readonly roles: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The `plain` augmenter. */
export default defineAugmenter<PlainAugmenterOptions>({
  optionKeys: ["roles"],
  parseOptions(options: PluginOptions): PlainAugmenterOptions {
    const raw = options.roles ?? {};
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new OptionsError(["roles"], "expected a map of role → list of usernames");
    }
    const roles = new Map<string, ReadonlySet<string>>();
    for (const [role, users] of Object.entries(raw)) {
      if (!Array.isArray(users) || !users.every((u) => typeof u === "string")) {
        throw new OptionsError(["roles", role], "expected a list of usernames");
      }
      roles.set(role, new Set(users));
    }
    return { roles };
  },
  create({ roles }, context) {
    context.log.warn(
      "augmenters.plain.deprecation",
      "the plain augmenter is deprecated; use plain_advanced",
      { augmenter: context.name },
    );
    return {
      augment(user, ctx) {
        const added: string[] = [];
        for (const [role, users] of roles) if (users.has(user.username)) added.push(role);
        if (added.length > 0) {
          ctx.log.info("augmenters.plain.roles_added", "plain augmenter added roles", {
            username: user.username,
            roles: added.join(","),
            roles_count: added.length,
          });
        }
        return { roles: added };
      },
    };
  },
});
