/**
 * Assembles a gateway from a resolved config: logger, plugins, metrics,
 * pipeline, issuer and the two request handlers. Nothing here binds a port,
 * so every failure happens before anything listens.
 *
 * Everything a config reload may change (plugins, pipeline, issuer and keys,
 * decision cache, routes) lives in a *generation*; the logger, metrics,
 * readiness and token store live as long as the process. A reload builds a new
 * generation exactly as startup does and swaps it in at once: requests in
 * flight finish on the old one, whose plugins are disposed after its last
 * request (`lib/util/generations.ts`).
 *
 * @module
 */

import { appRoutes, authenticateHandler, healthResponse } from "./http/app_routes.ts";
import { loadAssets, type StaticAssets } from "./http/assets.ts";
import { loadConfig } from "./config/load.ts";
import { ConfigReloadState } from "./observability/config_reload.ts";
import { Generations } from "./util/generations.ts";
import { buildChallenge } from "./auth/challenge.ts";
import { type Config, type PluginEntry, VERSION } from "./config/types.ts";
import { combineConfigErrors, ConfigError, errorMessage, formatKeyPath } from "./util/errors.ts";
import {
  byFileOrder,
  describeUnknownKey,
  formatPosition,
  type UnknownKey,
} from "./config/unknown_keys.ts";
import { DecisionCache } from "./auth/decision_cache.ts";
import { extAuthzRoutes } from "./http/ext_authz_routes.ts";
import { jwksRoute } from "./http/jwks_routes.ts";
import { createTokenIssuer, type TokenIssuer, warnAboutJwt } from "./jwt/issuer.ts";
import { type JwtKeys, loadJwtKeys } from "./jwt/keys.ts";
import { createLogger, type Logger, type LoggerOptions } from "./observability/log.ts";
import { GatewayMetrics, METRICS_CONTENT_TYPE } from "./observability/metrics.ts";
import { type AugmenterSlot, AuthPipeline, type ProviderSlot } from "./auth/pipeline.ts";
import type { Augmenter, AugmenterModule, Provider, ProviderModule } from "./plugin.ts";
import { type CheckedPlugin, checkPlugin, createPlugin } from "./plugins/loader.ts";
import { createPluginServices } from "../packages/plugin/_host/services.ts";
import { limitUpstream, type UpstreamHttp } from "../packages/plugin/_host/upstream.ts";
import { createRouter, type Route, type ServeHandler } from "./http/router.ts";
import { registerCollectedMetrics } from "./observability/metrics_collected.ts";
import { PluginHealth } from "./plugins/health.ts";
import { Readiness, readinessResponse } from "./http/readiness.ts";
import { createStatusHandler, type StatusPlugin } from "./http/status.ts";
import {
  instrumentTokenService,
  openTokenService,
  TOKEN_PROVIDER_NAME,
  tokenProviderSlot,
} from "./store/token_setup.ts";
import type { TokenService } from "./store/token_service.ts";
import { tokenRoutes } from "./http/token_routes.ts";
import { loadTokenPage, TOKEN_PAGE_PATH, tokenPageRoutes } from "./http/token_page_routes.ts";
import { explainRoute } from "./http/explain_routes.ts";
import { requestIdOf, tagResponse } from "./http/request_id.ts";
import { runWithRequestId } from "./observability/log.ts";
import { AuthThrottle } from "./auth/throttle.ts";

/** A gateway ready to be served. */
export interface Gateway extends AsyncDisposable {
  /** The config now serving (it changes with a reload). */
  readonly config: Config;
  /** The host logger. */
  readonly log: Logger;
  /** Metrics registry. */
  readonly metrics: GatewayMetrics;
  /** The pipeline now serving. */
  readonly pipeline: AuthPipeline;
  /** The downstream token issuer now serving. */
  readonly issuer: TokenIssuer;
  /** Recent decisions; call `invalidateUser`/`invalidateAll` when credentials are revoked. */
  readonly decisions: DecisionCache;
  /** Handler of the application listener. */
  readonly appHandler: ServeHandler;
  /** Handler of the metrics listener (`/health`, `/ready`, `/metrics`, `/status`, `/explain`). */
  readonly metricsHandler: ServeHandler;
  /** `/ready` state: register dependency checks with `readiness.add(name, check)`. */
  readonly readiness: Readiness;
  /** Brute-force limits (`auth.brute_force`). */
  readonly throttle: AuthThrottle;
  /**
   * Re-reads the config file and the environment, builds everything as
   * startup does, and swaps it in; on any failure the old config keeps
   * serving. Concurrent calls run one after the other.
   */
  reload(): Promise<ReloadResult>;
}

/** How a reload ended. */
export type ReloadResult =
  | {
    readonly ok: true;
    /** Changed sections that need a restart and were left as they were. */
    readonly restartRequired: readonly string[];
  }
  | { readonly ok: false; readonly error: string };

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Logger options (tests capture lines with `sink`). */
  readonly logger?: LoggerOptions;
  /**
   * Environment for `jwt.keys[].private_key_env` and, on reload, the `AOT_*`
   * overrides (default: the process environment, as it is at reload time).
   */
  readonly env?: Record<string, string>;
}

/** Sections a reload cannot change: the listeners, the token store and the logger. */
export const RESTART_REQUIRED = ["server", "metrics", "store", "logging"] as const;

/**
 * Imports and checks every plugin without creating them (also used by
 * `check-config`). Every entry is checked: several problems are thrown
 * together, in file order.
 */
export async function checkPlugins(
  config: Config,
): Promise<CheckedPlugin<ProviderModule | AugmenterModule>[]> {
  const settled = await Promise.allSettled(
    [...config.providers, ...config.augmenters].map((e) => checkPlugin(e, config)),
  );
  const failures = settled.flatMap((s) => s.status === "rejected" ? [s.reason as unknown] : []);
  if (failures.length === 0) {
    return settled.map((s) => (s as PromiseFulfilledResult<CheckedPlugin<never>>).value);
  }
  const other = failures.find((f) => !(f instanceof ConfigError));
  throw other ?? combineConfigErrors(failures as ConfigError[]);
}

/** Every unknown key of the config and of the checked plugins' options, in file order. */
export function unknownKeys(
  config: Config,
  checked: readonly CheckedPlugin<unknown>[],
): UnknownKey[] {
  return [...config.unknownKeys, ...checked.flatMap((p) => p.unknownKeys)].sort(byFileOrder);
}

/** Logs one `config.unknown_key` warning per unknown key. */
function warnUnknownKeys(log: Logger, keys: readonly UnknownKey[]): void {
  for (const key of keys) {
    log.warn("config.unknown_key", describeUnknownKey(key), {
      key: formatKeyPath(key.path),
      position: formatPosition(key.position),
      ...(key.suggestion === undefined ? {} : { suggestion: formatKeyPath(key.suggestion) }),
    });
  }
}

/** Warns that `entry` shares its name with an entry in another realm (the original allows it). */
function warnSharedName(log: Logger, entry: PluginEntry): void {
  log.warn(
    `startup.${entry.kind}s.shared_name`,
    `another ${entry.kind} is also named ${
      JSON.stringify(entry.name)
    }; logs, /status and the metrics without a realm label call this one ${
      JSON.stringify(entry.id)
    }`,
    { name: entry.name, realm: entry.realm, id: entry.id },
  );
}

/**
 * The entry's share of the upstream HTTP layer, bounded by its
 * `upstream_max_concurrent` and `upstream_max_per_second`. A refused request
 * counts in `authotron_upstream_failures_total{kind="limited"}` (through the
 * provider's failure) and logs `provider.upstream.limited` (warn, rate-limited).
 */
function limitedHttp(http: UpstreamHttp, entry: PluginEntry, log: Logger): UpstreamHttp {
  const { maxConcurrent, maxPerSecond } = entry.upstreamLimits;
  return limitUpstream(http, entry.upstreamLimits, (reason) =>
    log.throttled(
      "warn",
      `upstream.limited.${reason}`,
      "provider.upstream.limited",
      "upstream check refused: the provider's bound on upstream requests was reached",
      {
        provider: entry.name,
        reason,
        upstream_max_concurrent: maxConcurrent,
        upstream_max_per_second: maxPerSecond,
      },
    ));
}

/** The plugins of one config, created and ready. */
interface CreatedPlugins {
  readonly jwtKeys: JwtKeys;
  readonly providers: ProviderSlot[];
  readonly augmenters: AugmenterSlot[];
  readonly statusPlugins: StatusPlugin[];
  readonly services: ReturnType<typeof createPluginServices>;
  /** Disposes every plugin created. */
  readonly dispose: () => Promise<void>;
}

/** Loads the keys, imports, checks and creates every plugin of `config` (disposing them on failure). */
async function createPlugins(
  config: Config,
  log: Logger,
  env: Record<string, string> | undefined,
): Promise<CreatedPlugins> {
  warnAboutJwt(config.jwt, log);
  const jwtKeys = await loadJwtKeys(config, env);
  const checked = await checkPlugins(config);
  warnUnknownKeys(log, unknownKeys(config, checked));
  const created: (Provider | Augmenter)[] = [];
  const dispose = async () => {
    await Promise.allSettled(created.map((p) => p[Symbol.asyncDispose]?.()));
  };
  const services = createPluginServices();
  const providers: ProviderSlot[] = [];
  const augmenters: AugmenterSlot[] = [];
  const statusPlugins: StatusPlugin[] = [];
  try {
    for (const plugin of checked) {
      const { entry } = plugin;
      const pluginLog = log.child(`${entry.kind}s`, entry.id);
      if (entry.id !== entry.name) warnSharedName(pluginLog, entry);
      const began = performance.now();
      const about = { kind: entry.kind, name: entry.id, type: plugin.typeLabel };
      if (log.enabled("debug")) log.debug("startup.plugin.creating", "creating plugin", about);
      const instance = await createPlugin(plugin, config, pluginLog, {
        ...services,
        http: limitedHttp(services.http, entry, pluginLog),
        createCache: (name, cacheOptions) =>
          services.createCache(`${entry.id}/${name}`, cacheOptions),
      });
      created.push(instance);
      log.info("startup.plugin.created", "plugin created", {
        ...about,
        duration_ms: Math.round((performance.now() - began) * 10) / 10,
      });
      pluginLog.info(`${entry.kind}s.${entry.type ?? "module"}.initialization`, "plugin created", {
        name: entry.name,
        realm: entry.realm,
      });
      if (entry.kind === "provider") {
        const provider = instance as Provider;
        const scheme = (plugin.module as ProviderModule).scheme;
        const filterRealm = typeof provider.filterRealm === "string"
          ? provider.filterRealm
          : entry.realm;
        providers.push({
          name: entry.id,
          scheme,
          type: plugin.typeLabel,
          realm: entry.realm,
          filterRealm,
          provider,
          labels: { name: entry.name, scheme, realm: filterRealm },
          log: pluginLog,
        });
      } else {
        augmenters.push({
          name: entry.id,
          realm: entry.realm,
          serial: (plugin.module as AugmenterModule).serial === true,
          onError: entry.onError,
          augmenter: instance as Augmenter,
          labels: { name: entry.name, type: plugin.typeLabel, realm: entry.realm },
          log: pluginLog,
        });
      }
      statusPlugins.push({
        name: entry.id,
        kind: entry.kind,
        type: plugin.typeLabel,
        scheme: entry.kind === "provider" ? (plugin.module as ProviderModule).scheme : undefined,
        realm: entry.realm,
        status: instance.status?.bind(instance),
      });
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { jwtKeys, providers, augmenters, statusPlugins, services, dispose };
}

/** What lives as long as the process, shared by every generation. */
interface Shared {
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly tokens: TokenService | undefined;
  readonly tokenSlot: ProviderSlot | undefined;
  readonly assets: StaticAssets;
  /** The token page's routes (`store.enabled` only; the store needs a restart to change). */
  readonly tokenPage: Route[];
  readonly reloads: ConfigReloadState;
  readonly startedAt: number;
  /** Token deletions invalidate the decisions of the generation now serving too. */
  readonly onTokenDeleted: (owner: { username: string; realm: string }) => void;
}

/** Everything one config builds: what a reload replaces. */
interface Generation {
  readonly config: Config;
  readonly pipeline: AuthPipeline;
  readonly issuer: TokenIssuer;
  readonly decisions: DecisionCache;
  readonly throttle: AuthThrottle;
  readonly appHandler: ServeHandler;
  readonly metricsHandler: ServeHandler;
  /** Disposes its plugins and drops its metric hooks. */
  readonly dispose: () => Promise<void>;
}

/** Assembles a generation around created plugins (synchronous: no I/O). */
function assemble(
  config: Config,
  plugins: CreatedPlugins,
  shared: Shared,
  previous: Generation | undefined,
): Generation {
  const { log, metrics, readiness, tokens, tokenSlot } = shared;
  const providers = tokenSlot ? [...plugins.providers, tokenSlot] : plugins.providers;
  const { augmenters, statusPlugins, services } = plugins;
  metrics.declare(providers.map((p) => p.labels), augmenters.map((a) => a.labels));
  const authLog = log.child("auth");
  const health = new PluginHealth(metrics);
  // Brute-force counters survive a reload that leaves auth.brute_force as it was.
  const throttle = previous &&
      JSON.stringify(previous.config.auth.bruteForce) === JSON.stringify(config.auth.bruteForce)
    ? previous.throttle
    : new AuthThrottle(config.auth.bruteForce, metrics);
  const pipeline = new AuthPipeline({
    health,
    throttle,
    providers,
    augmenters,
    timeoutMs: config.auth.timeoutInMs,
    augmenterTimeoutMs: config.auth.augmenterTimeoutInMs,
    metrics,
    log: authLog,
  });
  const issuer = createTokenIssuer(config.jwt, plugins.jwtKeys.signer);
  const [decisions, dropHooks] = metrics.collecting(() => {
    registerCollectedMetrics(
      metrics,
      services.caches,
      statusPlugins.filter((p) => p.kind === "provider"),
    );
    return new DecisionCache({
      ttlMs: config.auth.decisionCacheTtlMs,
      // A token with a jti must be unique: sign each one (the decision is still reused).
      reuseTokens: !config.jwt.includeJti,
      // Replicas share a PostgreSQL store and only the deleting one is told: never cache its tokens.
      uncachedProviders: config.store.enabled && config.store.type === "postgres"
        ? new Set([TOKEN_PROVIDER_NAME])
        : undefined,
      metrics,
      log: authLog,
    });
  });
  const challenge = buildChallenge(
    providers.map((p) => ({ scheme: p.scheme, realm: p.filterRealm })),
  );
  const listing = (kind: "providers" | "augmenters") =>
    JSON.stringify({
      [kind]: config[kind].map((e) => ({ name: e.name, type: e.type ?? e.module, realm: e.realm })),
    });
  const deps = {
    config,
    pipeline: decisions.wrapAuthenticator(pipeline),
    issuer: decisions.wrapIssuer(issuer),
    responses: decisions,
    challenge,
    assets: shared.assets,
    listings: { providers: listing("providers"), augmenters: listing("augmenters") },
  };
  const routes: Route[] = [
    ...appRoutes(deps),
    jwksRoute(plugins.jwtKeys.published, config.jwt.exp),
    ...extAuthzRoutes(authenticateHandler(deps)),
    ...tokenRoutes({
      config,
      pipeline,
      challenge,
      tokens,
      onDeleted: (owner) => {
        decisions.invalidateUser(owner.username, owner.realm);
        shared.onTokenDeleted(owner);
      },
    }),
    ...shared.tokenPage,
    { pattern: "/ready", methods: { GET: () => readinessResponse(readiness) } },
  ];
  const routerLog = log.child("routes");
  const appHandler = createRouter(routes, { metrics, log: routerLog });
  const metricsHandler = createRouter([
    { pattern: "/health", methods: { GET: healthResponse } },
    { pattern: "/ready", methods: { GET: () => readinessResponse(readiness) } },
    explainRoute({ config, pipeline }),
    {
      pattern: "/status",
      methods: {
        GET: createStatusHandler({
          version: VERSION,
          startedAt: shared.startedAt,
          plugins: statusPlugins,
          health,
          caches: services.caches,
          readiness,
          config: () => shared.reloads.status(),
          tokenStore: tokens && (() => tokens.health.report()),
        }),
      },
    },
    {
      pattern: "/metrics",
      methods: {
        GET: () => {
          try {
            return new Response(metrics.render(), {
              headers: { "content-type": METRICS_CONTENT_TYPE },
            });
          } catch (error) {
            log.error("metrics.render.failed", "failed to render metrics", {
              error: errorMessage(error),
            });
            return new Response("failed to render metrics\n", { status: 500 });
          }
        },
      },
    },
  ], { log: routerLog });
  return {
    config,
    pipeline,
    issuer,
    decisions,
    throttle,
    appHandler,
    metricsHandler,
    dispose: async () => {
      dropHooks();
      await plugins.dispose();
    },
  };
}

/** `next` with the sections a reload cannot change taken from `current`; names those that differ. */
function keepRestartRequired(current: Config, next: Config): { config: Config; changed: string[] } {
  const changed = RESTART_REQUIRED.filter((section) =>
    JSON.stringify(current[section]) !== JSON.stringify(next[section])
  );
  const kept = Object.fromEntries(RESTART_REQUIRED.map((section) => [section, current[section]]));
  return { config: { ...next, ...kept }, changed };
}

/**
 * A listener's handler: each request runs on the generation current when it
 * arrived (held until its response is ready). Each request gets an id (its
 * sane `X-Request-Id`, else a new one) that its response echoes and that is
 * the log context of everything it runs, so that every line it causes, at any
 * level and from any logger, carries it. An async context rather than an
 * explicitly passed id: plugins also log through the logger they were created
 * with (key-set refreshes, directory lookups), which no argument reaches. It
 * costs about 2–3 µs of CPU per request. A synchronous response stays
 * synchronous, and an asynchronous one costs a single extra promise reaction.
 */
function serveOn(
  gens: Generations<Generation>,
  pick: (generation: Generation) => ServeHandler,
): ServeHandler {
  return (req, info) => {
    const id = requestIdOf(req);
    const lease = gens.acquire();
    let result: Response | Promise<Response>;
    try {
      const handler = pick(lease.value);
      result = runWithRequestId(id, handler, req, info);
    } catch (error) {
      lease.release();
      throw error;
    }
    if (result instanceof Response) {
      lease.release();
      return tagResponse(result, id);
    }
    return result.then((response) => {
      lease.release();
      return tagResponse(response, id);
    }, (error: unknown) => {
      lease.release();
      throw error;
    });
  };
}

/** Builds the gateway: every plugin is loaded and created before this resolves. */
export async function createGateway(
  config: Config,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const startedAt = Date.now();
  const log = createLogger(config.logging, options.logger);
  const plugins = await createPlugins(config, log, options.env);
  let tokens: TokenService | undefined;
  try {
    tokens = await openTokenService(config, log);
  } catch (error) {
    await plugins.dispose();
    throw error;
  }
  const tokenSlot = tokens ? tokenProviderSlot(tokens, log) : undefined;
  const metrics = new GatewayMetrics({
    version: VERSION,
    providers: [...plugins.providers, ...tokenSlot ? [tokenSlot] : []].map((p) => p.labels),
    augmenters: plugins.augmenters.map((a) => a.labels),
  });
  const readiness = new Readiness();
  // The token store is not a readiness check: a shared store outage would take every replica
  // out of rotation while Basic and JWT requests are still served. It shows in /status and metrics.
  if (tokens) instrumentTokenService(tokens, metrics);
  const shared: Shared = {
    log,
    metrics,
    readiness,
    tokens,
    tokenSlot,
    assets: await loadAssets({
      tokenPagePath: config.store.enabled ? TOKEN_PAGE_PATH : undefined,
    }),
    tokenPage: config.store.enabled ? tokenPageRoutes(await loadTokenPage(config.store)) : [],
    reloads: new ConfigReloadState(metrics, config.file),
    startedAt,
    onTokenDeleted: (owner) => gens.current.decisions.invalidateUser(owner.username, owner.realm),
  };
  const gens = new Generations(
    assemble(config, plugins, shared, undefined),
    (generation) => generation.dispose(),
  );
  const load = () => loadConfig(config.file, options.env ?? Deno.env.toObject());
  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true, restartRequired: [] });

  const reloadOnce = async (): Promise<ReloadResult> => {
    const began = performance.now();
    const current = gens.current;
    let next: Generation;
    let changed: string[];
    try {
      const kept = keepRestartRequired(current.config, await load());
      changed = kept.changed;
      const created = await createPlugins(kept.config, log, options.env);
      next = assemble(kept.config, created, shared, current);
    } catch (error) {
      const message = `Error loading configuration: ${errorMessage(error)}`;
      shared.reloads.failed(message);
      log.error("config.reload.failed", message, { file: current.config.file });
      return { ok: false, error: message };
    }
    for (const section of changed) {
      log.warn(
        "config.reload.restart_required",
        `${section} changed: it takes effect at the next restart`,
        { section },
      );
    }
    const inFlight = gens.active;
    gens.replace(next);
    shared.reloads.succeeded(next.config.file);
    log.info("config.reload.succeeded", "configuration reloaded", {
      file: next.config.file,
      duration_ms: Math.round((performance.now() - began) * 10) / 10,
      providers: next.config.providers.length,
      augmenters: next.config.augmenters.length,
      in_flight_on_previous: inFlight,
    });
    return { ok: true, restartRequired: changed };
  };

  return {
    get config() {
      return gens.current.config;
    },
    log,
    metrics,
    get pipeline() {
      return gens.current.pipeline;
    },
    get issuer() {
      return gens.current.issuer;
    },
    get decisions() {
      return gens.current.decisions;
    },
    get throttle() {
      return gens.current.throttle;
    },
    appHandler: serveOn(gens, (g) => g.appHandler),
    metricsHandler: serveOn(gens, (g) => g.metricsHandler),
    readiness,
    reload() {
      reloading = reloading.then(reloadOnce, reloadOnce);
      return reloading;
    },
    async [Symbol.asyncDispose]() {
      await reloading;
      await gens.dispose();
      await tokenSlot?.provider[Symbol.asyncDispose]?.();
    },
  };
}
