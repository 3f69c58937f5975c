/**
 * Binds the application and metrics listeners for a gateway and shuts them
 * down gracefully: stop accepting, drain in-flight requests, dispose plugins.
 *
 * @module
 */

import { errorMessage, GatewayError } from "./util/errors.ts";
import type { Gateway } from "./gateway.ts";

/** A gateway that is listening. */
export interface RunningGateway {
  /** Where the application listener is bound. */
  readonly appAddr: Deno.NetAddr;
  /** Where the metrics listener is bound, when enabled. */
  readonly metricsAddr: Deno.NetAddr | undefined;
  /** Stops accepting, drains, disposes the plugins. Safe to call twice. */
  shutdown(): Promise<void>;
  /** Resolves when both listeners have closed. */
  readonly finished: Promise<void>;
}

function bind(
  kind: "application" | "metrics",
  host: string,
  port: number,
  handler: Deno.ServeHandler,
  gateway: Gateway,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({
      hostname: host,
      port,
      handler,
      onListen: () => {},
      onError: (error) => {
        gateway.log.error("routes.server.error", "unhandled server error", {
          error: errorMessage(error),
        });
        return new Response(null, { status: 500 });
      },
    });
  } catch (error) {
    const reason = errorMessage(error);
    throw new GatewayError(
      "ERR_STARTUP",
      `could not bind ${kind} server on ${host}:${port}: ${reason}`,
      { cause: error },
    );
  }
}

/** Serves a gateway on the ports of its config. */
export function serveGateway(gateway: Gateway): RunningGateway {
  const { config, log } = gateway;
  const app = bind(
    "application",
    config.server.host,
    config.server.port,
    gateway.appHandler,
    gateway,
  );
  let metrics: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (config.metrics.enabled) {
    try {
      metrics = bind(
        "metrics",
        config.server.host,
        config.metrics.port,
        gateway.metricsHandler,
        gateway,
      );
    } catch (error) {
      app.shutdown();
      throw error;
    }
  }
  log.info("startup.server.listening", "application listener ready", {
    host: app.addr.hostname,
    port: app.addr.port,
  });
  if (metrics) {
    log.info("startup.metrics.listening", "metrics listener ready", {
      host: metrics.addr.hostname,
      port: metrics.addr.port,
    });
  } else {
    log.info("startup.metrics.disabled", "metrics listener disabled");
  }
  let stopping: Promise<void> | undefined;
  return {
    appAddr: app.addr,
    metricsAddr: metrics?.addr,
    finished: Promise.all([app.finished, metrics?.finished]).then(() => {}),
    shutdown() {
      stopping ??= (async () => {
        gateway.readiness.startShutdown(); // /ready answers 503 while requests drain
        log.info("shutdown.started", "draining in-flight requests");
        await Promise.all([app.shutdown(), metrics?.shutdown()]);
        await gateway[Symbol.asyncDispose]();
        log.info("shutdown.finished", "stopped");
      })();
      return stopping;
    },
  };
}
