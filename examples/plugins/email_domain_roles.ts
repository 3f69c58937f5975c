/**
 * Example third-party augmenter: grants roles by the domain of the user's
 * `email` (or `ecmwf-email`) attribute.
 *
 * ```yaml
 * augmenters:
 *   - module: ./examples/plugins/email_domain_roles.ts
 *     name: staff
 *     realm: ecmwf
 *     domains:
 *       ecmwf.int: [staff]
 * ```
 *
 * @module
 */

import { defineAugmenter, OptionsError } from "@authotron/plugin";

export default defineAugmenter<Map<string, string[]>>({
  parseOptions(options) {
    const domains = options.domains;
    if (typeof domains !== "object" || domains === null || Array.isArray(domains)) {
      throw new OptionsError(["domains"], "expected a map of domain → roles");
    }
    return new Map(
      Object.entries(domains).map(([domain, roles]) => {
        if (!Array.isArray(roles)) throw new OptionsError(["domains", domain], "expected a list");
        return [domain.toLowerCase(), roles.map(String)];
      }),
    );
  },
  create(domains) {
    return {
      augment(user) {
        const email = user.attributes.email ?? user.attributes["ecmwf-email"];
        const domain = email?.split("@")[1]?.toLowerCase();
        const roles = domain === undefined ? undefined : domains.get(domain);
        return roles && { roles };
      },
    };
  },
});
