/**
 * The gateway's own metric families (spec 9.1): names, HELP texts, label
 * names and buckets, registered in one place.
 *
 * @module
 */

import type { Counter, Gauge, Histogram } from "./metrics_families.ts";
import type { Registry } from "./metrics_registry.ts";

/** Buckets of `auth_duration_seconds` and the HTTP duration histogram. */
// deno-fmt-ignore
export const DURATION_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The families the gateway records into directly. */
export interface GatewayFamilies {
  /** `auth_requests_total{realm,result}`. */
  readonly authRequests: Counter;
  /** `auth_duration_seconds{realm,result}`. */
  readonly authDuration: Histogram;
  /** `auth_provider_attempts_total{provider_name,provider_type,realm,result}`. */
  readonly providerAttempts: Counter;
  /** `auth_provider_duration_seconds{provider_name,provider_type,realm}`, up to 5 s. */
  readonly providerDuration: Histogram;
  /** `augmenter_attempts_total{augmenter_name,augmenter_type,realm,result}`. */
  readonly augmenterAttempts: Counter;
  /** `augmenter_duration_seconds{augmenter_type,realm}`, up to 2.5 s. */
  readonly augmenterDuration: Histogram;
  /** `authotron_http_requests_total{method,route,status_code}`. */
  readonly httpRequests: Counter;
  /** `authotron_http_request_duration_seconds{method,route}`. */
  readonly httpDuration: Histogram;
  /** `authotron_http_requests_in_flight{method}`. */
  readonly httpInFlight: Gauge;
}

/** Registers the spec 9.1 families and sets `authotron_build_info{version} 1`. */
export function registerGatewayFamilies(registry: Registry, version: string): GatewayFamilies {
  const r = registry;
  r.gauge(
    "authotron_build_info",
    "Build information; constant 1 with the crate version as a label",
    ["version"],
  ).set({ version }, 1);
  return {
    authRequests: r.counter(
      "auth_requests_total",
      "Total number of authentication attempts",
      ["result", "realm"],
    ),
    authDuration: r.histogram(
      "auth_duration_seconds",
      "Authentication request duration in seconds",
      ["result", "realm"],
      DURATION_BUCKETS,
    ),
    providerAttempts: r.counter(
      "auth_provider_attempts_total",
      "Total authentication attempts per provider",
      ["provider_name", "provider_type", "realm", "result"],
    ),
    providerDuration: r.histogram(
      "auth_provider_duration_seconds",
      "Provider authentication duration in seconds",
      ["provider_name", "provider_type", "realm"],
      DURATION_BUCKETS.filter((b) => b <= 5),
    ),
    augmenterAttempts: r.counter(
      "augmenter_attempts_total",
      "Total augmenter executions",
      ["augmenter_name", "augmenter_type", "realm", "result"],
    ),
    augmenterDuration: r.histogram(
      "augmenter_duration_seconds",
      "Augmenter execution duration in seconds",
      ["augmenter_type", "realm"],
      DURATION_BUCKETS.filter((b) => b <= 2.5),
    ),
    httpRequests: r.counter(
      "authotron_http_requests_total",
      "HTTP requests by matched route pattern, method, and status code. Counted on the application port only; route is the matched pattern (such as /token/{token}) or unmatched, never the raw path.",
      ["route", "method", "status_code"],
    ),
    httpDuration: r.histogram(
      "authotron_http_request_duration_seconds",
      "HTTP request duration in seconds by matched route pattern and method, from arrival of the request until its response is ready, on the application port only.",
      ["route", "method"],
      DURATION_BUCKETS,
    ),
    httpInFlight: r.gauge(
      "authotron_http_requests_in_flight",
      "HTTP requests currently being processed, by method. Incremented when a request arrives on the application port and decremented when it completes or is cancelled.",
      ["method"],
    ),
  };
}
