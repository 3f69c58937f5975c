/**
 * The upstream HTTP layer every remote plugin uses, re-exported from `packages/plugin/_host/`: the `@authotron/plugin`
 * package carries it so `@authotron/plugin/testing` gives plugins under test
 * exactly the gateway's implementation.
 *
 * @module
 */

export * from "../../packages/plugin/_host/upstream.ts";
