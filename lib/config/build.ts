/**
 * The merged config tree → the resolved {@link Config} (always v2 shape):
 * version dispatch, `server`/`metrics` (v2) or `bind_address` (v1), the
 * shared sections and the port-collision check.
 *
 * @module
 */

import type { Config } from "./types.ts";
import { combineConfigErrors } from "../util/errors.ts";
import { own, type Table } from "./tree.ts";
import {
  attempt,
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
import {
  DISABLED_STORE,
  readAuth,
  readJwt,
  readLogging,
  readServices,
  readShutdown,
  readStore,
} from "./sections.ts";
import { readPluginEntries } from "./plugins.ts";
import { splitBindAddress } from "./v1.ts";

/** Config versions this gateway reads. */
export const CONFIG_VERSIONS = ["1.0.0", "2.0.0"] as const;

const readPort = readInteger(0, 65535);

/** Stands in for a value that failed to read: the config is then refused, never used. */
const UNUSED = undefined as never;

/** Where the tree came from. */
export interface ConfigSource extends ReadContext {
  /** The config file path as given. */
  readonly file: string;
  /** The config file as a URL. */
  readonly fileUrl: URL;
}

/**
 * Validates the merged tree and resolves it; throws `ConfigError`. With an
 * error collector in `ctx`, every section, listener key and plugin entry is
 * checked and all their problems are thrown together (a `ConfigErrors` when
 * there are several), in file order.
 */
export function buildConfig(ctx: ConfigSource, root: Table): Omit<Config, "unknownKeys"> {
  const sourceVersion = readVersion(ctx, own(root, "version"));
  const listeners = sourceVersion === "1.0.0"
    ? attempt(ctx, () => readV1Listeners(ctx, root), UNUSED)
    : readV2Listeners(ctx, root);
  const section = <T>(read: () => T): T => attempt(ctx, read, UNUSED);
  const config: Omit<Config, "unknownKeys"> = {
    file: ctx.file,
    fileUrl: ctx.fileUrl,
    sourceVersion,
    locate: ctx.locate,
    ...listeners,
    auth: section(() => field(ctx, root, ["auth"], readAuth, readAuth(ctx, {}, ["auth"]))),
    shutdown: section(() =>
      field(ctx, root, ["shutdown"], readShutdown, readShutdown(ctx, {}, ["shutdown"]))
    ),
    jwt: section(() => field(ctx, root, ["jwt"], readJwt)),
    includeLegacyHeaders: section(() =>
      field(
        ctx,
        root,
        ["include_legacy_headers"],
        readBoolean,
        false,
      )
    ),
    logging: section(() => field(ctx, root, ["logging"], readLogging)),
    // auth-o-tron requires both sections; neither is needed here (no store = disabled).
    store: section(() => field(ctx, root, ["store"], readStore, DISABLED_STORE)),
    services: section(() => field(ctx, root, ["services"], readServices, [])),
    providers: section(() =>
      field(
        ctx,
        root,
        ["providers"],
        (c, v, p) => readPluginEntries(c, v, p, "provider"),
      )
    ),
    augmenters: section(() =>
      field(
        ctx,
        root,
        ["augmenters"],
        (c, v, p) => readPluginEntries(c, v, p, "augmenter"),
        [],
      )
    ),
  };
  if (ctx.errors !== undefined && ctx.errors.length > 0) throw combineConfigErrors(ctx.errors);
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
  const key = <T>(read: () => T): T => attempt(ctx, read, UNUSED);
  const server = key(() => field(ctx, root, ["server"], readTable));
  const metrics = key(() => field(ctx, root, ["metrics"], readTable, {}));
  // A section that failed to read has no keys to check.
  if (server === undefined || metrics === undefined) return UNUSED;
  return {
    server: {
      host: key(() =>
        field(
          ctx,
          server,
          ["server", "host"],
          readNonEmptyString,
          "0.0.0.0",
        )
      ),
      port: key(() => field(ctx, server, ["server", "port"], readPort)),
    },
    metrics: {
      enabled: key(() =>
        field(
          ctx,
          metrics,
          ["metrics", "enabled"],
          readBoolean,
          DEFAULT_METRICS.enabled,
        )
      ),
      port: key(() =>
        field(
          ctx,
          metrics,
          ["metrics", "port"],
          readPort,
          DEFAULT_METRICS.port,
        )
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
