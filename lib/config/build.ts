/**
 * The merged config tree → the resolved {@link Config} (always v2 shape):
 * version dispatch, `server`/`metrics` (v2) or `bind_address` (v1), the
 * shared sections and the port-collision check.
 *
 * @module
 */

import type { Config } from "./types.ts";
import { own, type Table } from "./tree.ts";
import {
  describe,
  fail,
  field,
  readBoolean,
  type ReadContext,
  readInteger,
  readNonEmptyString,
  readString,
  readTable,
} from "./read.ts";
import { readAuth, readJwt, readLogging, readServices, readStore } from "./sections.ts";
import { readPluginEntries } from "./plugins.ts";
import { splitBindAddress } from "./v1.ts";

/** Config versions this gateway reads. */
export const CONFIG_VERSIONS = ["1.0.0", "2.0.0"] as const;

const readPort = readInteger(0, 65535);

/** Where the tree came from. */
export interface ConfigSource extends ReadContext {
  /** The config file path as given. */
  readonly file: string;
  /** The config file as a URL. */
  readonly fileUrl: URL;
}

/** Validates the merged tree and resolves it; throws `ConfigError`. */
export function buildConfig(ctx: ConfigSource, root: Table): Omit<Config, "unknownKeys"> {
  const sourceVersion = readVersion(ctx, own(root, "version"));
  const listeners = sourceVersion === "1.0.0"
    ? readV1Listeners(ctx, root)
    : readV2Listeners(ctx, root);
  const config: Omit<Config, "unknownKeys"> = {
    file: ctx.file,
    fileUrl: ctx.fileUrl,
    sourceVersion,
    locate: ctx.locate,
    ...listeners,
    auth: field(ctx, root, ["auth"], readAuth, readAuth(ctx, {}, ["auth"])),
    jwt: field(ctx, root, ["jwt"], readJwt),
    includeLegacyHeaders: field(
      ctx,
      root,
      ["include_legacy_headers"],
      readBoolean,
      false,
    ),
    logging: field(ctx, root, ["logging"], readLogging),
    store: field(ctx, root, ["store"], readStore),
    services: field(ctx, root, ["services"], readServices),
    providers: field(
      ctx,
      root,
      ["providers"],
      (c, v, p) => readPluginEntries(c, v, p, "provider"),
    ),
    augmenters: field(
      ctx,
      root,
      ["augmenters"],
      (c, v, p) => readPluginEntries(c, v, p, "augmenter"),
      [],
    ),
  };
  const { server, metrics } = config;
  // Two port-0 listeners get distinct OS-chosen ports, so only equal fixed ports collide.
  if (metrics.enabled && server.port === metrics.port && server.port !== 0) {
    fail(
      ctx,
      sourceVersion === "1.0.0" ? ["bind_address"] : ["metrics", "port"],
      `application port and metrics port are both ${server.port}, they must be different`,
    );
  }
  return config;
}

function readVersion(ctx: ReadContext, value: unknown): Config["sourceVersion"] {
  const expected = `expected "1.0.0" or "2.0.0"`;
  if (value === undefined || value === null) {
    fail(ctx, ["version"], `is required (${expected})`);
  }
  if (typeof value !== "string") {
    fail(
      ctx,
      ["version"],
      `${expected} as a string, got ${describe(value, [])}; quote it: version: "2.0.0"`,
    );
  }
  if (!(CONFIG_VERSIONS as readonly string[]).includes(value)) {
    fail(ctx, ["version"], `unknown version ${describe(value, [])}, ${expected}`);
  }
  return value as Config["sourceVersion"];
}

type Listeners = Pick<Config, "server" | "metrics">;

const DEFAULT_METRICS = { enabled: true, port: 9090 };

function readV2Listeners(ctx: ReadContext, root: Table): Listeners {
  const server = field(ctx, root, ["server"], readTable);
  const metrics = field(ctx, root, ["metrics"], readTable, {});
  return {
    server: {
      host: field(
        ctx,
        server,
        ["server", "host"],
        readNonEmptyString,
        "0.0.0.0",
      ),
      port: field(ctx, server, ["server", "port"], readPort),
    },
    metrics: {
      enabled: field(
        ctx,
        metrics,
        ["metrics", "enabled"],
        readBoolean,
        DEFAULT_METRICS.enabled,
      ),
      port: field(
        ctx,
        metrics,
        ["metrics", "port"],
        readPort,
        DEFAULT_METRICS.port,
      ),
    },
  };
}

/** v1: `bind_address` gives the server; any `metrics` key is ignored. */
function readV1Listeners(ctx: ReadContext, root: Table): Listeners {
  const address = field(ctx, root, ["bind_address"], readString);
  const split = splitBindAddress(address);
  if ("error" in split) {
    fail(ctx, ["bind_address"], `Error migrating v1 config: ${split.error}`);
  }
  return { server: split, metrics: { ...DEFAULT_METRICS } };
}
