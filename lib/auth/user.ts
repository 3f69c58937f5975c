/**
 * Validation of provider users and merging of augmenter patches, re-exported
 * from `packages/plugin/_host/`: the `@authotron/plugin` package carries it so
 * `@authotron/plugin/testing` checks a plugin's results exactly as the gateway does.
 *
 * @module
 */

export * from "../../packages/plugin/_host/user.ts";
