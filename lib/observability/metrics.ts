/**
 * The gateway's Prometheus metrics (spec section 9): the auth, provider,
 * augmenter and HTTP families, build info and process metrics, with the
 * zero-valued series of spec 9.2 created at startup.
 *
 * Every label value comes from configuration (provider and augmenter names,
 * types and realms, user realms from providers), from a fixed set (results,
 * normalised methods, route patterns, status codes) or from the build, never
 * from raw client input, so the number of series stays bounded. Hot-path
 * methods keep the series they touch and update them without lookups.
 *
 * @module
 */

import type {
  Counter,
  CounterSeries,
  Gauge,
  GaugeSeries,
  Histogram,
  HistogramSeries,
} from "./metrics_families.ts";
import { type GatewayFamilies, registerGatewayFamilies } from "./metrics_catalog.ts";
import { registerProcessMetrics } from "./metrics_process.ts";
import { Registry } from "./metrics_registry.ts";

export { METRICS_CONTENT_TYPE } from "./prom_text.ts";
export type { Counter, Gauge, Histogram } from "./metrics_families.ts";
export { DURATION_BUCKETS } from "./metrics_catalog.ts";

/** The `result` label of `auth_requests_total`. */
export type AuthResult =
  | "success"
  | "no_auth_header"
  | "invalid_header"
  | "all_failed"
  | "upstream_unavailable";

/** Labels of one provider; `realm` is its filter realm, or `unknown`. */
export interface ProviderLabels {
  /** Config entry name. */
  name: string;
  /** The scheme, reported as `provider_type`. */
  scheme: "Basic" | "Bearer";
  /** Filter realm, or `unknown` (token store). */
  realm: string;
}

/** Labels of one augmenter. */
export interface AugmenterLabels {
  /** Config entry name. */
  name: string;
  /** Config type (`plain`, `ldap`, `plain_advanced`, or the module). */
  type: string;
  /** Config realm. */
  realm: string;
}

/** What {@link GatewayMetrics} pre-initialises series for. */
export interface MetricsOptions {
  /** Reported by `authotron_build_info`. */
  version: string;
  /** Every provider, including the token store when enabled. */
  providers: ProviderLabels[];
  /** Every augmenter. */
  augmenters: AugmenterLabels[];
}

const FAILURES = [
  "no_auth_header",
  "invalid_header",
  "all_failed",
  "upstream_unavailable",
] as const;
// deno-fmt-ignore
const METHODS = new Set([
  "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
]);

type Timed = { readonly duration: HistogramSeries };
type AuthSeries = Timed & { readonly count: CounterSeries };
type ProviderSeries = Timed & Record<"success" | "error" | "timeout", CounterSeries>;
type AugmenterSeries = Timed & Record<"success" | "error", CounterSeries>;
type HttpSeries = Timed & { readonly count: CounterSeries };

/** The metrics of one gateway. */
export class GatewayMetrics {
  readonly #registry = new Registry();
  readonly #families: GatewayFamilies;
  readonly #auth = new Map<string, Map<string, AuthSeries>>();
  readonly #providers = new WeakMap<ProviderLabels, ProviderSeries>();
  readonly #augmenters = new WeakMap<AugmenterLabels, Map<string, AugmenterSeries>>();
  /** Route → method → status → series: nested so that a request builds no key string. */
  readonly #http = new Map<string, Map<string, Map<number, HttpSeries>>>();
  readonly #inFlight = new Map<string, GaugeSeries>();
  #group: (() => void)[] | undefined;

  /** Registers the families and pre-initialises the series of spec 9.2. */
  constructor(options: MetricsOptions) {
    this.#families = registerGatewayFamilies(this.#registry, options.version);
    registerProcessMetrics(this.#registry);

    for (const result of FAILURES) this.#authSeries(result, "unknown");
    this.declare(options.providers, options.augmenters);
  }

  /** Creates the zero-valued series of these plugins (at startup, and for a reloaded config). */
  declare(providers: readonly ProviderLabels[], augmenters: readonly AugmenterLabels[]): void {
    const realms = new Set(["unknown"]);
    for (const p of providers) realms.add(p.realm);
    for (const a of augmenters) realms.add(a.realm);
    for (const realm of realms) this.#authSeries("success", realm);
    for (const p of providers) this.#providerSeries(p);
    for (const a of augmenters) this.#augmenterSeries(a, a.realm);
  }

  /**
   * Counts one `/authenticate`-style request and its duration. `realm` is the
   * user's realm on success; failures always use `unknown`.
   */
  recordAuth(result: AuthResult, realm: string, seconds: number): void {
    const series = this.#authSeries(
      result,
      result === "success" ? realm : "unknown",
    );
    series.count.inc();
    series.duration.observe(seconds);
  }

  /** Counts one provider attempt; a timeout records no duration. */
  recordProviderAttempt(
    p: ProviderLabels,
    result: "success" | "error" | "timeout",
    seconds?: number,
  ): void {
    const series = this.#providerSeries(p);
    series[result].inc();
    if (result !== "timeout" && seconds !== undefined) {
      series.duration.observe(seconds);
    }
  }

  /** Counts one augmenter run for a user of `userRealm`, with its duration. */
  recordAugmenter(
    a: AugmenterLabels,
    userRealm: string,
    result: "success" | "error",
    seconds: number,
  ): void {
    const series = this.#augmenterSeries(a, userRealm);
    series[result].inc();
    series.duration.observe(seconds);
  }

  /** A request arrived on the application port: in-flight +1. */
  httpStart(method: string): void {
    this.#inFlightSeries(normaliseMethod(method)).inc();
  }

  /**
   * A request finished (or was cancelled): in-flight −1, and it is counted
   * under its matched `route` pattern (or `unmatched`) and `status`.
   */
  httpEnd(route: string, method: string, status: number, seconds: number): void {
    const m = normaliseMethod(method);
    this.#inFlightSeries(m).dec();
    let methods = this.#http.get(route);
    if (methods === undefined) this.#http.set(route, methods = new Map());
    let statuses = methods.get(m);
    if (statuses === undefined) methods.set(m, statuses = new Map());
    let series = statuses.get(status);
    if (series === undefined) {
      series = {
        count: this.#families.httpRequests.series({
          route,
          method: m,
          status_code: String(status),
        }),
        duration: this.#families.httpDuration.series({ route, method: m }),
      };
      statuses.set(status, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  /** Registers (or returns) an extra counter family, e.g. cache hits. */
  counter(name: string, help: string, labelNames: string[]): Counter {
    return this.#registry.counter(name, help, labelNames);
  }

  /** Registers (or returns) an extra gauge family, e.g. cache sizes. */
  gauge(name: string, help: string, labelNames: string[]): Gauge {
    return this.#registry.gauge(name, help, labelNames);
  }

  /** Registers (or returns) an extra histogram family. */
  histogram(
    name: string,
    help: string,
    labelNames: string[],
    buckets: number[],
  ): Histogram {
    return this.#registry.histogram(name, help, labelNames, buckets);
  }

  /** Runs `fn` just before each render (to refresh gauges such as cache sizes); returns its removal. */
  onCollect(fn: () => void): () => void {
    const remove = this.#registry.onCollect(fn);
    this.#group?.push(remove);
    return remove;
  }

  /**
   * Runs `build` (synchronously) and returns its result with a function that
   * removes every collect hook registered meanwhile: a config reload drops
   * the hooks of the caches it replaces this way.
   */
  collecting<T>(build: () => T): [T, () => void] {
    const outer = this.#group;
    const group: (() => void)[] = [];
    this.#group = group;
    try {
      return [build(), () => group.forEach((remove) => remove())];
    } finally {
      this.#group = outer;
    }
  }

  /** The exposition in Prometheus text format 0.0.4. */
  render(): string {
    return this.#registry.render();
  }

  #authSeries(result: AuthResult, realm: string): AuthSeries {
    let byRealm = this.#auth.get(result);
    if (byRealm === undefined) this.#auth.set(result, byRealm = new Map());
    let series = byRealm.get(realm);
    if (series === undefined) {
      const labels = { result, realm };
      series = {
        count: this.#families.authRequests.series(labels),
        duration: this.#families.authDuration.series(labels),
      };
      byRealm.set(realm, series);
    }
    return series;
  }

  #providerSeries(p: ProviderLabels): ProviderSeries {
    let series = this.#providers.get(p);
    if (series === undefined) {
      const base = { provider_name: p.name, provider_type: p.scheme, realm: p.realm };
      const attempts = this.#families.providerAttempts;
      series = {
        success: attempts.series({ ...base, result: "success" }),
        error: attempts.series({ ...base, result: "error" }),
        timeout: attempts.series({ ...base, result: "timeout" }),
        duration: this.#families.providerDuration.series(base),
      };
      this.#providers.set(p, series);
    }
    return series;
  }

  #augmenterSeries(a: AugmenterLabels, realm: string): AugmenterSeries {
    let byRealm = this.#augmenters.get(a);
    if (byRealm === undefined) this.#augmenters.set(a, byRealm = new Map());
    let series = byRealm.get(realm);
    if (series === undefined) {
      const base = { augmenter_name: a.name, augmenter_type: a.type, realm };
      const attempts = this.#families.augmenterAttempts;
      series = {
        success: attempts.series({ ...base, result: "success" }),
        error: attempts.series({ ...base, result: "error" }),
        duration: this.#families.augmenterDuration.series({ augmenter_type: a.type, realm }),
      };
      byRealm.set(realm, series);
    }
    return series;
  }

  #inFlightSeries(method: string): GaugeSeries {
    let series = this.#inFlight.get(method);
    if (series === undefined) {
      series = this.#families.httpInFlight.series({ method });
      this.#inFlight.set(method, series);
    }
    return series;
  }
}

/** The method label: a standard method as sent, else `other`. */
function normaliseMethod(method: string): string {
  return METHODS.has(method) ? method : "other";
}
