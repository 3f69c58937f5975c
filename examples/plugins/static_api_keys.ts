/**
 * Example third-party provider: Bearer API keys listed in the config by their
 * SHA-256 hash, so the YAML never holds a usable key.
 *
 * ```yaml
 * providers:
 *   - module: ./examples/plugins/static_api_keys.ts
 *     name: robots
 *     realm: machines
 *     keys:
 *       - sha256: "<hex sha-256 of the key>"
 *         username: ci-robot
 *         roles: [deployer]
 * ```
 *
 * @module
 */

import { defineProvider, OptionsError, timingSafeEqual } from "@authotron/plugin";

interface KeyEntry {
  readonly sha256: string;
  readonly username: string;
  readonly roles: string[];
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export default defineProvider<{ keys: KeyEntry[] }>({
  scheme: "Bearer",
  parseOptions(options) {
    if (!Array.isArray(options.keys)) throw new OptionsError(["keys"], "expected a list");
    const keys = options.keys.map((raw, i) => {
      const key = raw as Record<string, unknown>;
      if (typeof key.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(key.sha256)) {
        throw new OptionsError(["keys", i, "sha256"], "expected 64 lowercase hex digits");
      }
      if (typeof key.username !== "string") {
        throw new OptionsError(["keys", i, "username"], "expected a string");
      }
      return { sha256: key.sha256, username: key.username, roles: (key.roles as string[]) ?? [] };
    });
    return { keys };
  },
  create({ keys }) {
    return {
      async authenticate(credential) {
        const hash = await sha256Hex(credential);
        let found: KeyEntry | undefined;
        for (const key of keys) if (timingSafeEqual(key.sha256, hash)) found ??= key;
        return found && { username: found.username, roles: [...found.roles] };
      },
    };
  },
});
