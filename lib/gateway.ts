/**
 * Assembles a gateway from a resolved config: logger, plugins, metrics,
 * pipeline, issuer and the two request handlers. Nothing here binds a port,
 * so every failure happens before anything listens.
 *
 * @module
 */

import { appRoutes, authenticateHandler, healthResponse } from "./http/app_routes.ts";
import { loadAssets } from "./http/assets.ts";
import { buildChallenge } from "./auth/challenge.ts";
import { type Config, VERSION } from "./config/types.ts";
import { errorMessage, formatKeyPath } from "./util/errors.ts";
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
import { loadJwtKeys } from "./jwt/keys.ts";
import { createLogger, type Logger, type LoggerOptions } from "./observability/log.ts";
import { GatewayMetrics, METRICS_CONTENT_TYPE } from "./observability/metrics.ts";
import { type AugmenterSlot, AuthPipeline, type ProviderSlot } from "./auth/pipeline.ts";
import type { Augmenter, AugmenterModule, Provider, ProviderModule } from "./plugin.ts";
import { type CheckedPlugin, checkPlugin, createPlugin } from "./plugins/loader.ts";
import { createPluginServices } from "./plugins/services.ts";
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
import { AuthThrottle } from "./auth/throttle.ts";

/** A gateway ready to be served. */
export interface Gateway extends AsyncDisposable {
  /** The config it was built from. */
  readonly config: Config;
  /** The host logger. */
  readonly log: Logger;
  /** Metrics registry. */
  readonly metrics: GatewayMetrics;
  /** The pipeline. */
  readonly pipeline: AuthPipeline;
  /** The downstream token issuer. */
  readonly issuer: TokenIssuer;
  /** Recent decisions; call `invalidateUser`/`invalidateAll` when credentials are revoked. */
  readonly decisions: DecisionCache;
  /** Handler of the application listener. */
  readonly appHandler: ServeHandler;
  /** Handler of the metrics listener (`/health`, `/ready`, `/metrics`, `/status`). */
  readonly metricsHandler: ServeHandler;
  /** `/ready` state: register dependency checks with `readiness.add(name, check)`. */
  readonly readiness: Readiness;
  /** Brute-force limits (`auth.brute_force`). */
  readonly throttle: AuthThrottle;
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Logger options (tests capture lines with `sink`). */
  readonly logger?: LoggerOptions;
  /** Environment for `jwt.keys[].private_key_env` (default: the process environment). */
  readonly env?: Record<string, string>;
}

/** Imports and checks every plugin without creating them (used by `check-config`). */
export function checkPlugins(
  config: Config,
): Promise<CheckedPlugin<ProviderModule | AugmenterModule>[]> {
  return Promise.all(
    [...config.providers, ...config.augmenters].map((e) => checkPlugin(e, config)),
  );
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

/** Builds the gateway: every plugin is loaded and created before this resolves. */
export async function createGateway(
  config: Config,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const startedAt = Date.now();
  const log = createLogger(config.logging, options.logger);
  warnAboutJwt(config.jwt, log);
  const jwtKeys = await loadJwtKeys(config, options.env);
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
  let tokens: TokenService | undefined;
  try {
    for (const plugin of checked) {
      const { entry } = plugin;
      const pluginLog = log.child(`${entry.kind}s`, entry.name);
      const began = performance.now();
      const about = { kind: entry.kind, name: entry.name, type: plugin.typeLabel };
      if (log.enabled("debug")) log.debug("startup.plugin.creating", "creating plugin", about);
      const instance = await createPlugin(plugin, config, pluginLog, {
        ...services,
        createCache: (name, cacheOptions) =>
          services.createCache(`${entry.name}/${name}`, cacheOptions),
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
          name: entry.name,
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
          name: entry.name,
          realm: entry.realm,
          serial: (plugin.module as AugmenterModule).serial === true,
          onError: entry.onError,
          augmenter: instance as Augmenter,
          labels: { name: entry.name, type: plugin.typeLabel, realm: entry.realm },
          log: pluginLog,
        });
      }
      statusPlugins.push({
        name: entry.name,
        kind: entry.kind,
        type: plugin.typeLabel,
        scheme: entry.kind === "provider" ? (plugin.module as ProviderModule).scheme : undefined,
        realm: entry.realm,
        status: instance.status?.bind(instance),
      });
    }
    tokens = await openTokenService(config, log);
    if (tokens) {
      const slot = tokenProviderSlot(tokens, log);
      created.push(slot.provider);
      providers.push(slot);
    }
  } catch (error) {
    await dispose();
    throw error;
  }

  const metrics = new GatewayMetrics({
    version: VERSION,
    providers: providers.map((p) => p.labels),
    augmenters: augmenters.map((a) => a.labels),
  });
  const authLog = log.child("auth");
  const health = new PluginHealth(metrics);
  registerCollectedMetrics(
    metrics,
    services.caches,
    statusPlugins.filter((p) => p.kind === "provider"),
  );
  const readiness = new Readiness();
  if (tokens) instrumentTokenService(tokens, metrics);
  if (tokens) {
    const service = tokens;
    readiness.add("token-store", () => service.ping().then(() => true));
  }
  const throttle = new AuthThrottle(config.auth.bruteForce, metrics);
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
  const issuer = createTokenIssuer(config.jwt, jwtKeys.signer);
  const decisions = new DecisionCache({
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
    assets: await loadAssets(),
    listings: { providers: listing("providers"), augmenters: listing("augmenters") },
  };
  const routes: Route[] = [
    ...appRoutes(deps),
    jwksRoute(jwtKeys.published, config.jwt.exp),
    ...extAuthzRoutes(authenticateHandler(deps)),
    ...tokenRoutes({
      config,
      pipeline,
      challenge,
      tokens,
      onDeleted: (owner) => decisions.invalidateUser(owner.username, owner.realm),
    }),
    { pattern: "/ready", methods: { GET: () => readinessResponse(readiness) } },
  ];
  const routerLog = log.child("routes");
  const appHandler = createRouter(routes, { metrics, log: routerLog });
  const metricsHandler = createRouter([
    { pattern: "/health", methods: { GET: healthResponse } },
    { pattern: "/ready", methods: { GET: () => readinessResponse(readiness) } },
    {
      pattern: "/status",
      methods: {
        GET: createStatusHandler({
          version: VERSION,
          startedAt,
          plugins: statusPlugins,
          health,
          caches: services.caches,
          readiness,
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
    log,
    metrics,
    pipeline,
    issuer,
    decisions,
    appHandler,
    metricsHandler,
    readiness,
    throttle,
    [Symbol.asyncDispose]: dispose,
  };
}
