/**
 * The plugin contract, re-exported from its one source,
 * `packages/plugin/mod.ts` (the `@authotron/plugin` package), so the
 * gateway's modules and plugins loaded from anywhere share the same types and
 * error classes.
 *
 * @module
 */

export * from "../packages/plugin/mod.ts";
