/**
 * Structured logging (spec section 11) on top of LogTape.
 *
 * How LogTape is used: LogTape's configuration is process-global, while one
 * process may run several gateways (tests do) with different levels, formats
 * and sinks. So LogTape is configured once, with one sink ({@link logtapeSink})
 * on the category `["authotron"]`, and every {@link createLogger} call gets
 * its own category `["authotron", <instance id>, …child categories]`. Records
 * travel through LogTape (`Logger.emit`, so timestamps come from the injected
 * clock) and the sink routes each one by its instance id to that gateway's
 * formatter and output. The level threshold is checked per gateway before a
 * record is built, so disabled levels cost one comparison.
 *
 * Attributes are sanitised and redacted before they reach LogTape, so any
 * other LogTape sink an application attaches sees only safe data. An
 * application that configures LogTape itself must route the category
 * `"authotron"` to {@link logtapeSink}; otherwise {@link createLogger}
 * refuses to start.
 *
 * Folder `lib/observability/`: logging (format, redaction, throttling), metrics
 * (registry, families, collectors, Prometheus text) and tracing. Imports `lib/util/`,
 * `lib/config/` and the plugin contract.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  configureSync,
  getConfig,
  getConsoleSink,
  getLogger,
  type Logger as LogTapeLogger,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import type { Config } from "../config/types.ts";
import { GatewayError } from "../util/errors.ts";
import { buildAttributes } from "./log_redact.ts";
import { getConsoleFormatter, getJsonFormatter } from "./log_format.ts";
import { LogThrottle } from "./log_throttle.ts";
import type { LogAttributes, PluginLogger } from "../plugin.ts";

/** Levels a host logger understands, lowest first. */
export type Level = "trace" | "debug" | "info" | "warn" | "error";

/** Host logger. */
export interface Logger extends PluginLogger {
  /**
   * A logger for a sub-category, e.g. `log.child("providers", "plain")`. The
   * category appears in every event as `code.target`
   * (`authotron.providers.plain`).
   */
  child(...category: string[]): Logger;
  /**
   * Emits at most one event per `key` (and category) per 30 s window; the
   * first is emitted with `suppressed_count=0`, the first after the window
   * carries the count suppressed meanwhile (spec 11 throttling). With a
   * `reason` (a short fixed phrase), it also carries `suppressed_reasons`:
   * the suppressed occurrences by reason, e.g. `credential not accepted=12`.
   */
  throttled(
    level: Exclude<Level, "trace">,
    key: string,
    event: string,
    message: string,
    attributes?: LogAttributes,
    reason?: string,
  ): void;
  /** True when `level` would be emitted (to skip building expensive attributes). */
  enabled(level: Level): boolean;
}

const requestIds = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `id` as the request id of every log line emitted within it
 * (and within everything it awaits), by any logger: the `request_id`
 * attribute.
 */
export function runWithRequestId<A extends unknown[], T>(
  id: string,
  fn: (...args: A) => T,
  ...args: A
): T {
  return requestIds.run(id, fn, ...args);
}

/** Adds the current request id, if any, to a line's attributes. */
function withRequestId(attributes: LogAttributes | undefined): LogAttributes | undefined {
  const id = requestIds.getStore();
  return id === undefined ? attributes : { ...attributes, request_id: id };
}

/** Options for {@link createLogger}, mainly for tests. */
export interface LoggerOptions {
  /** Receives each formatted line; default: the line plus `\n` to stdout. */
  sink?: (line: string) => void;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

/** The LogTape category every host logger lives under. */
export const LOG_CATEGORY = "authotron";

const ORDER: Record<Level, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
};
const LOGTAPE_LEVEL = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
} as const;

interface Route {
  readonly format: TextFormatter;
  readonly write: (line: string) => void;
}

// Instance id → route. Weak, so a gateway's sink is released with its loggers.
const routes = new Map<string, WeakRef<Route>>();
const unroute = new FinalizationRegistry<string>((id) => routes.delete(id));
let nextInstance = 0;

/**
 * The LogTape sink that delivers `["authotron", <instance>, …]` records to the
 * output of the {@link createLogger} call that created the instance.
 */
export const logtapeSink: Sink = (record) => {
  const route = routes.get(record.category[1])?.deref();
  if (route) route.write(route.format(record));
};
// LogTape's marker for sinks that consume a record synchronously: it then
// skips copying the record's properties (they are plain data here anyway).
Object.defineProperty(logtapeSink, Symbol.for("LogTape.sinkSnapshotPolicy.immediate"), {
  value: true,
});

/** Configures LogTape with the routing sink unless it already has it. */
function install(): void {
  const current = getConfig();
  if (current === null) {
    configureSync({
      sinks: { authotron: logtapeSink, meta: getConsoleSink() },
      loggers: [
        {
          category: LOG_CATEGORY,
          sinks: ["authotron"],
          lowestLevel: "trace",
          parentSinks: "override",
        },
        // Failures of LogTape itself (a throwing sink) go to stderr.
        { category: ["logtape", "meta"], sinks: ["meta"], lowestLevel: "warning" },
      ],
    });
  } else if (!Object.values(current.sinks).includes(logtapeSink)) {
    throw new GatewayError(
      "ERR_STARTUP",
      `LogTape is already configured without the Auth-O-Tron sink; route category "${LOG_CATEGORY}" to logtapeSink from lib/observability/log.ts`,
    );
  }
}

const encoder = new TextEncoder();

/** Writes one line to stdout, handling partial writes. */
function writeStdout(line: string): void {
  const bytes = encoder.encode(`${line}\n`);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

interface Instance {
  readonly id: string;
  readonly threshold: number;
  readonly now: () => number;
  readonly throttle: LogThrottle;
  // Held strongly here so the weak route lives as long as any logger does.
  readonly route: Route;
}

class HostLogger implements Logger {
  readonly #instance: Instance;
  readonly #category: readonly string[];
  readonly #fullCategory: readonly string[];
  readonly #target: string;
  readonly #logtape: LogTapeLogger;

  constructor(instance: Instance, category: readonly string[]) {
    this.#instance = instance;
    this.#category = category;
    this.#target = [LOG_CATEGORY, ...category].join(".");
    this.#fullCategory = [LOG_CATEGORY, instance.id, ...category];
    this.#logtape = getLogger(this.#fullCategory);
  }

  debug(event: string, message: string, attributes?: LogAttributes): void {
    this.#log("debug", event, message, attributes);
  }

  info(event: string, message: string, attributes?: LogAttributes): void {
    this.#log("info", event, message, attributes);
  }

  warn(event: string, message: string, attributes?: LogAttributes): void {
    this.#log("warn", event, message, attributes);
  }

  error(event: string, message: string, attributes?: LogAttributes): void {
    this.#log("error", event, message, attributes);
  }

  child(...category: string[]): Logger {
    return new HostLogger(this.#instance, [...this.#category, ...category]);
  }

  enabled(level: Level): boolean {
    return ORDER[level] >= this.#instance.threshold;
  }

  throttled(
    level: Exclude<Level, "trace">,
    key: string,
    event: string,
    message: string,
    attributes?: LogAttributes,
    reason?: string,
  ): void {
    if (ORDER[level] < this.#instance.threshold) return;
    const now = this.#instance.now();
    const admitted = this.#instance.throttle.admitWithReason(
      `${this.#target}\n${key}`,
      now,
      reason,
    );
    if (admitted === undefined) return;
    const reasons = Object.entries(admitted.reasons);
    this.#emit(level, event, message, {
      ...attributes,
      suppressed_count: admitted.suppressed,
      ...(reason === undefined ? {} : {
        suppressed_reasons: reasons.map(([why, count]) => `${why}=${count}`).join(","),
      }),
    }, now);
  }

  #log(level: Level, event: string, message: string, attributes?: LogAttributes): void {
    if (ORDER[level] >= this.#instance.threshold) this.#emit(level, event, message, attributes);
  }

  #emit(
    level: Level,
    event: string,
    message: string,
    attributes: LogAttributes | undefined,
    timestamp: number = this.#instance.now(),
  ): void {
    // The record repeats the logger's own category: LogTape then dispatches
    // it as is instead of copying it property by property.
    const record: LogRecord = {
      category: this.#fullCategory,
      level: LOGTAPE_LEVEL[level],
      timestamp,
      message: [message],
      rawMessage: message,
      properties: buildAttributes(event, withRequestId(attributes), this.#target),
    };
    this.#logtape.emit(record);
  }
}

/**
 * Creates the logger of one gateway from `logging`: level filter, `json` or
 * `console` format (console for anything else), and the service name and
 * version for the JSON `resource`.
 */
export function createLogger(
  config: Config["logging"],
  options: LoggerOptions = {},
): Logger {
  install();
  const id = String(nextInstance++);
  const color = options.sink === undefined && config.format !== "json" &&
    Deno.stdout.isTerminal();
  const route: Route = {
    format: config.format === "json" ? getJsonFormatter(config) : getConsoleFormatter({ color }),
    write: options.sink ?? writeStdout,
  };
  routes.set(id, new WeakRef(route));
  unroute.register(route, id);
  return new HostLogger({
    id,
    threshold: ORDER[config.level] ?? ORDER.info,
    now: options.now ?? Date.now,
    throttle: new LogThrottle(),
    route,
  }, []);
}
