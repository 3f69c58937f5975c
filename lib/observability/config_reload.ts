/**
 * What happened to the configuration since startup, for `/metrics` and
 * `/status`: the reload counters and gauges (named as the Prometheus server
 * names its own: `…_reload_total`, `…_last_reload_successful`,
 * `…_last_reload_success_timestamp_seconds`), when the serving config was
 * loaded, and the last reload error.
 *
 * @module
 */

import type { Counter, GatewayMetrics, Gauge } from "./metrics.ts";

/** The `/status` view of the configuration. */
export interface ConfigStatus {
  /** The config file the gateway serves, as given. */
  readonly file: string;
  /** When the serving config was loaded (ISO 8601). */
  readonly loaded_at: string;
  /** Reloads so far, by result. */
  readonly reloads: { readonly success: number; readonly failure: number };
  /** The message of the last failed reload, cleared by a successful one. */
  readonly last_reload_error: string | null;
}

/** Records config loads and reloads in metrics and for `/status`. */
export class ConfigReloadState {
  readonly #total: Counter;
  readonly #successful: Gauge;
  readonly #successAt: Gauge;
  readonly #now: () => number;
  #file: string;
  #loadedAt: number;
  #lastError: string | null = null;
  #counts = { success: 0, failure: 0 };

  /** Registers the families; the startup load counts as the last successful one. */
  constructor(metrics: GatewayMetrics, file: string, now: () => number = Date.now) {
    this.#now = now;
    this.#file = file;
    this.#loadedAt = now();
    this.#total = metrics.counter(
      "authotron_config_reload_total",
      "Configuration reloads (SIGHUP or --watch-config), by result.",
      ["result"],
    );
    this.#successful = metrics.gauge(
      "authotron_config_last_reload_successful",
      "1 when the last configuration reload succeeded (or none was tried), 0 when it failed.",
      [],
    );
    this.#successAt = metrics.gauge(
      "authotron_config_last_reload_success_timestamp_seconds",
      "Unix time of the last successful configuration load (startup or reload).",
      [],
    );
    this.#total.series({ result: "success" });
    this.#total.series({ result: "failure" });
    this.#successful.set({}, 1);
    this.#successAt.set({}, this.#loadedAt / 1000);
  }

  /** A reload of `file` is now serving. */
  succeeded(file: string): void {
    this.#file = file;
    this.#loadedAt = this.#now();
    this.#lastError = null;
    this.#counts.success++;
    this.#total.series({ result: "success" }).inc();
    this.#successful.set({}, 1);
    this.#successAt.set({}, this.#loadedAt / 1000);
  }

  /** A reload failed with `message`; the previous config keeps serving. */
  failed(message: string): void {
    this.#lastError = message;
    this.#counts.failure++;
    this.#total.series({ result: "failure" }).inc();
    this.#successful.set({}, 0);
  }

  /** The `/status` view. */
  status(): ConfigStatus {
    return {
      file: this.#file,
      loaded_at: new Date(this.#loadedAt).toISOString(),
      reloads: { ...this.#counts },
      last_reload_error: this.#lastError,
    };
  }
}
