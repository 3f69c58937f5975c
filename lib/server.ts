/**
 * Binds the application and metrics listeners for a gateway and shuts them
 * down gracefully in two phases:
 *
 * 1. drain (`shutdown.drain_delay_ms`): both listeners keep serving, `/ready`
 *    answers 503 so load balancers stop sending, and every answer carries
 *    `Connection: close` so keep-alive clients open their next connection
 *    elsewhere instead of having it closed under their next request;
 * 2. stop: the listeners stop accepting, in-flight requests finish, the
 *    plugins are disposed.
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
  /** Drains, stops accepting, waits for in-flight requests, disposes the plugins. Safe to call twice. */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Resolves when both listeners have closed. */
  readonly finished: Promise<void>;
}

/** Options of {@link RunningGateway.shutdown}. */
export interface ShutdownOptions {
  /** Overrides `shutdown.drain_delay_ms` (tests that need no drain pass 0). */
  readonly drainDelayMs?: number;
}

/** `res` with `Connection: close` (copied when its headers are immutable). */
function closing(res: Response): Response {
  try {
    res.headers.set("connection", "close");
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set("connection", "close");
    return copy;
  }
}

/**
 * A handler that calls `handler`, adding `Connection: close` to its answers
 * once {@link DrainableHandler.drain} was called. Until then it adds nothing
 * to the request path but one call.
 */
interface DrainableHandler {
  /** The handler to bind. */
  readonly serve: Deno.ServeHandler;
  /** From now on, every answer closes its connection. */
  drain(): void;
}

function drainable(handler: Deno.ServeHandler): DrainableHandler {
  const draining: Deno.ServeHandler = async (req, info) => closing(await handler(req, info));
  let current = handler;
  return {
    serve: (req, info) => current(req, info),
    drain: () => {
      current = draining;
    },
  };
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
  const appHandler = drainable(gateway.appHandler);
  const metricsHandler = drainable(gateway.metricsHandler);
  const app = bind(
    "application",
    config.server.host,
    config.server.port,
    appHandler.serve,
    gateway,
  );
  let metrics: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (config.metrics.enabled) {
    try {
      metrics = bind(
        "metrics",
        config.server.host,
        config.metrics.port,
        metricsHandler.serve,
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
    shutdown(options = {}) {
      stopping ??= (async () => {
        const drainDelayMs = options.drainDelayMs ?? config.shutdown.drainDelayMs;
        gateway.readiness.startShutdown(); // /ready answers 503 from now on
        appHandler.drain();
        metricsHandler.drain();
        log.info("shutdown.started", "draining: answers close their connection, /ready is 503", {
          drain_delay_ms: drainDelayMs,
        });
        if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
        log.info("shutdown.stopping", "closing the listeners; in-flight requests finish");
        await Promise.all([app.shutdown(), metrics?.shutdown()]);
        await gateway[Symbol.asyncDispose]();
        log.info("shutdown.finished", "stopped");
      })();
      return stopping;
    },
  };
}
