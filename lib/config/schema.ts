/**
 * The JSON Schema (draft 2020-12) of the config file format, printed by
 * `--schema`. Every section is closed (`additionalProperties: false`) so that
 * editors flag a misspelled key; the gateway itself accepts unknown keys as the
 * original does, and reports each one (`lib/config/unknown_keys.ts` walks this
 * schema). Plugin entries stay open: every key besides the host keys is a
 * plugin option, which the plugin's `optionKeys` declare.
 *
 * @module
 */

import { VERSION } from "./types.ts";

type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  description,
  ...extra,
});
const int = (description: string, extra: Schema = {}): Schema => ({
  type: "integer",
  description,
  ...extra,
});
const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const list = (items: Schema, description: string): Schema => ({
  type: "array",
  items,
  description,
});
const object = (
  description: string,
  properties: Record<string, Schema>,
  required: string[] = [],
): Schema => ({ type: "object", description, properties, required, additionalProperties: false });
const port = (description: string, extra: Schema = {}) =>
  int(description, { minimum: 0, maximum: 65535, ...extra });

const shared: Record<string, Schema> = {
  store: { ...ref("StoreConfig"), description: "Token store (default: disabled)." },
  services: list(ref("ServiceConfig"), "Parsed and unused (default none)."),
  providers: list(ref("ProviderConfig"), "Providers, tried in parallel."),
  augmenters: list(ref("AugmenterConfig"), "Augmenters (default none)."),
  jwt: ref("JWTConfig"),
  include_legacy_headers: {
    type: ["boolean", "null"],
    default: false,
    description: "Adds X-Auth-Username, X-Auth-Realm and X-Auth-Roles.",
  },
  logging: ref("LoggingConfig"),
  auth: ref("AuthConfig"),
  shutdown: ref("ShutdownConfig"),
};
// auth-o-tron also requires store and services; both may be left out here.
const sharedRequired = ["providers", "jwt", "logging"];

const pluginEntry = (kind: string, extra: Record<string, Schema>): Schema => ({
  type: "object",
  description:
    `A ${kind}: a built-in \`type\` or a plugin \`module\`; every other key is passed to the plugin as its options.`,
  properties: {
    name: str(`Unique name of the ${kind}.`, { minLength: 1 }),
    realm: str("The realm it serves."),
    type: str("A built-in plugin type, such as `plain` or `jwt`.", {
      minLength: 1,
    }),
    module: str("A plugin module path (relative to this file) or URL.", {
      minLength: 1,
    }),
    ...extra,
  },
  required: ["name", "realm"],
  oneOf: [{ required: ["type"] }, { required: ["module"] }],
  additionalProperties: true,
});

const SCHEMA: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Config",
  description: "Auth-O-Tron configuration (YAML). AOT_* variables override it.",
  oneOf: [ref("ConfigV1"), ref("ConfigV2")],
  $defs: {
    ConfigV1: object("Version 1 (migrated to version 2 on load).", {
      version: { const: "1.0.0" },
      bind_address: str("host:port, e.g. 0.0.0.0:8080 or [::1]:8080."),
      ...shared,
    }, ["version", "bind_address", ...sharedRequired]),
    ConfigV2: object("Version 2.", {
      version: { const: "2.0.0" },
      server: ref("ServerConfig"),
      metrics: ref("MetricsConfig"),
      ...shared,
    }, ["version", "server", ...sharedRequired]),
    ServerConfig: object("Application listener.", {
      host: str("Bind address.", { default: "0.0.0.0", minLength: 1 }),
      port: port("Port; 0 picks a free one."),
    }, ["port"]),
    MetricsConfig: object("Metrics and health listener (same host).", {
      enabled: { type: "boolean", default: true },
      port: port("Port; must differ from server.port.", { default: 9090 }),
    }),
    ShutdownConfig: object("Graceful shutdown (an addition to the original's format).", {
      drain_delay_ms: int(
        "After SIGTERM, both listeners keep serving this long (answers carry Connection: close, /ready is 503), then close.",
        { minimum: 0, maximum: 120_000, default: 1000 },
      ),
    }),
    AuthConfig: object("Pipeline settings.", {
      timeout_in_ms: int("Per-provider timeout.", {
        minimum: 0,
        maximum: 2 ** 31 - 1,
        default: 5000,
      }),
      augmenter_timeout_in_ms: int(
        "Per-augmenter timeout; defaults to timeout_in_ms.",
        { minimum: 0, maximum: 2 ** 31 - 1 },
      ),
      upstream_failure_status: {
        enum: [401, 503],
        default: 503,
        description: "Status when an upstream could not decide.",
      },
      decision_cache_ttl_ms: int(
        "How long a successful decision and its issued JWT are reused, in ms; 0 turns it off.",
        { minimum: 0, maximum: 60_000, default: 1000 },
      ),
      plugin_create_timeout_ms: int(
        "Longest wait for one plugin's create() at startup or reload; past it startup stops naming the plugin.",
        { minimum: 1, maximum: 2 ** 31 - 1, default: 30_000 },
      ),
      brute_force: ref("BruteForceConfig"),
    }),
    BruteForceConfig: object("Limits on failed attempts (docs/security.md).", {
      enabled: { type: "boolean", default: true, description: "Throttling on." },
      max_failures: int("Failures per address+username pair in the window.", {
        minimum: 1,
        default: 10,
      }),
      max_failures_per_address: int("Failures per client address in the window.", {
        minimum: 1,
        default: 100,
      }),
      max_failures_per_username: int("Failures per username in the window; 0 = no limit.", {
        minimum: 0,
        default: 100,
      }),
      window_s: int("Failures are counted over this many seconds.", {
        minimum: 1,
        maximum: 86400,
        default: 60,
      }),
      block_s: int("A key over its limit is refused for this many seconds.", {
        minimum: 1,
        maximum: 86400,
        default: 300,
      }),
      trusted_networks: list(str("An IP or CIDR range."), "Client addresses never throttled."),
      trusted_proxies: list(
        str("An IP or CIDR range."),
        "Peers whose X-Real-IP header names the client (default: loopback).",
      ),
    }),
    JWTConfig: object("Issued JWT settings (docs/backends.md).", {
      iss: str("Issuer claim."),
      exp: int("Lifetime in seconds (a warning above 3600)."),
      secret: str("HS256 signing secret; required when algorithm is HS256.", { minLength: 1 }),
      algorithm: {
        enum: ["HS256", "ES256", "EdDSA", "RS256"],
        default: "HS256",
        description: "Signing algorithm; EdDSA is the fastest asymmetric choice.",
      },
      keys: list(ref("JWTKey"), "Asymmetric keys: one active signer, the rest only published."),
      audience: {
        type: ["string", "array", "null"],
        items: { type: "string", minLength: 1 },
        description: "The aud claim (a string or a list); omitted when not set.",
      },
      aud: {
        description:
          "Ignored, as in auth-o-tron (a startup warning says so); use audience for an aud claim.",
      },
      include_jti: { type: "boolean", default: false, description: "Adds a random jti." },
      include_nbf: { type: "boolean", default: false, description: "Adds nbf equal to iat." },
    }, ["iss", "exp"]),
    JWTKey: object("A signing or published key (exactly one private_key*/public_key* key).", {
      kid: str("Key id; default: the RFC 7638 thumbprint.", { minLength: 1, maxLength: 128 }),
      private_key: str("PEM (PKCS#8) or JWK JSON text."),
      private_key_file: str("File holding PEM (PKCS#8) or JWK JSON; relative to this file."),
      private_key_env: str("Environment variable holding PEM (PKCS#8) or JWK JSON."),
      public_key: str("PEM (SPKI) or public JWK JSON: published only, never signs."),
      public_key_file: str("File holding a public PEM or JWK: published only."),
      active: { type: "boolean", description: "Signs new tokens (exactly one key)." },
      not_after: {
        type: ["string", "integer"],
        description: "Stop publishing after this ISO 8601 date-time or epoch second.",
      },
    }),
    LoggingConfig: object("Logging.", {
      level: str("trace, debug, info, warn or error (case-insensitive)."),
      format: str("json, or anything else for the console format."),
      service_name: str("Service name in logs.", { default: "authotron" }),
      service_version: str("Service version in logs.", { default: VERSION }),
    }, ["level", "format"]),
    StoreConfig: object("Token store.", {
      enabled: { type: "boolean" },
      type: { enum: ["deno-kv", "postgres"], default: "deno-kv" },
      path: str("Deno KV file.", { default: "./data/tokens.kv" }),
      uri: str("PostgreSQL connection URI (required for postgres)."),
      default_ttl: int("Default token lifetime (s).", {
        minimum: 1,
        default: 2592000,
      }),
      max_ttl: int("Maximum token lifetime (s).", {
        minimum: 1,
        default: 31536000,
      }),
    }, ["enabled"]),
    ServiceConfig: object("A service.", {
      name: { type: "string" },
      scopes: list({ type: "string" }, "Scopes."),
    }, ["name", "scopes"]),
    ProviderConfig: pluginEntry("provider", {
      upstream_max_concurrent: int(
        "Upstream requests (identity service, JWKS) this provider may have in flight at once; beyond it a check fails at once as 'cannot decide' (503). 0 = no bound.",
        { minimum: 0, maximum: 1000000, default: 64 },
      ),
      upstream_max_per_second: int(
        "Upstream requests this provider may start per second (a burst of one second's worth); beyond it a check fails at once as 'cannot decide' (503). 0 = no bound.",
        { minimum: 0, maximum: 1000000, default: 200 },
      ),
    }),
    AugmenterConfig: pluginEntry("augmenter", {
      on_error: {
        enum: ["skip", "fail"],
        default: "skip",
        description: "What an error or timeout does.",
      },
    }),
  },
};

/** Returns a fresh copy of the config JSON Schema. */
export function configSchema(): Record<string, unknown> {
  return structuredClone(SCHEMA);
}
