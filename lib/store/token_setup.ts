/**
 * Wires the token store into a gateway: opens the configured backend, builds
 * the `token-store` pseudo-provider (appended after the configured providers)
 * and counts store operations in the metrics.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import { errorMessage, GatewayError } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { ProviderSlot } from "../auth/pipeline.ts";
import { type Provider, UpstreamUnavailableError } from "../plugin.ts";
import { openKvStore } from "./kv_store.ts";
import { openPostgresStore } from "./postgres_store.ts";
import { TokenService } from "./token_service.ts";
import { StoreUnavailableError, type TokenStore } from "./token_store.ts";

/** The pseudo-provider's name in logs, metrics and `/whoami`-style listings. */
export const TOKEN_PROVIDER_NAME = "token-store";

/** Opens the backend of `config.store`; `undefined` when the store is disabled. */
export async function openTokenService(
  config: Config,
  log: Logger,
): Promise<TokenService | undefined> {
  const { store } = config;
  if (!store.enabled) return undefined;
  const storeLog = log.child("store");
  let backend: TokenStore;
  try {
    backend = store.type === "postgres"
      ? await openPostgresStore(store.uri!, {
        timeoutMs: config.auth.timeoutInMs,
        onDeferred: (error) => {
          storeLog.warn(
            "startup.store.unreachable",
            "token store unreachable at startup; token routes answer 503 until it is back",
            { backend: "postgres", error: error.message },
          );
        },
      })
      : await openKvStore(store.path);
  } catch (error) {
    const where = store.type === "postgres" ? "store.uri" : `store.path ${store.path}`;
    const reason = error instanceof Deno.errors.NotCapable && store.type === "deno-kv"
      ? `${errorMessage(error)}; this process may not write there: start it with ` +
        `--allow-write=${storeDirectory(store.path)} (see docs/deployment.md#permissions)`
      : errorMessage(error);
    throw new GatewayError("ERR_STARTUP", `token store (${where}): ${reason}`, { cause: error });
  }
  storeLog.info("startup.store.ready", "token store opened", {
    backend: backend.backend,
    ...(store.type === "deno-kv" ? { path: store.path } : {}),
  });
  return new TokenService({ store: backend, timeoutMs: config.auth.timeoutInMs, log: storeLog });
}

/** The directory Deno KV writes (the file and its -wal/-shm companions). */
function storeDirectory(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * The `token-store` provider: accepts this gateway's opaque tokens and returns
 * the stored user snapshot. It has no filter realm and stays eligible when
 * `X-Auth-Realm` is sent, but then accepts only tokens whose owner is of that
 * realm. A store failure is an upstream failure (503 unless another provider accepts).
 */
export function tokenProviderSlot(tokens: TokenService, log: Logger): ProviderSlot {
  const provider: Provider = {
    async authenticate(credential, ctx) {
      let user;
      try {
        user = await tokens.authenticate(credential, ctx.realmHint);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        throw new UpstreamUnavailableError(error.message, "store", { cause: error });
      }
      if (user === undefined) return undefined;
      return {
        username: user.username,
        realm: user.realm,
        roles: [...user.roles],
        attributes: { ...user.attributes },
        scopes: Object.fromEntries(Object.entries(user.scopes).map(([k, v]) => [k, [...v]])),
      };
    },
    [Symbol.asyncDispose]: () => tokens.close(),
  };
  return {
    name: TOKEN_PROVIDER_NAME,
    scheme: "Bearer",
    type: TOKEN_PROVIDER_NAME,
    realm: "unknown",
    filterRealm: undefined,
    anyRealm: true,
    provider,
    labels: { name: TOKEN_PROVIDER_NAME, scheme: "Bearer", realm: "unknown" },
    log: log.child("providers", TOKEN_PROVIDER_NAME),
  };
}

/**
 * Registers `authotron_token_store_operations_total` (counting the service's
 * operations) and `authotron_token_store_up` (its availability).
 */
export function instrumentTokenService(tokens: TokenService, metrics: GatewayMetrics): void {
  tokens.instrument(metrics.counter(
    "authotron_token_store_operations_total",
    "Token store operations by operation (create, find, list, count, delete, touch, ping) and result (success, error).",
    ["operation", "result"],
  ));
  tokens.health.instrument(
    metrics.gauge(
      "authotron_token_store_up",
      "1 while the token store answers, 0 from its first failed operation until a probe (every second) succeeds.",
      ["backend"],
    ).series({ backend: tokens.backend }),
  );
}
