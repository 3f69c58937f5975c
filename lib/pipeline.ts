/**
 * The authentication pipeline (spec section 4 and 6.1): parse the credentials,
 * race the eligible providers under a timeout, then run the realm's
 * augmenters, each under a timeout too.
 *
 * @module
 */

import { type HeaderFailure, parseAuthorization } from "./credentials.ts";
import type { Logger } from "./log.ts";
import type { AugmenterLabels, GatewayMetrics, ProviderLabels } from "./metrics.ts";
import {
  type Augmenter,
  type Provider,
  type ResolvedUser,
  type Scheme,
  UpstreamUnavailableError,
  type UserPatch,
} from "./plugin.ts";
import { runBounded } from "./bounded_call.ts";
import { type PluginHealth, scrubCredential } from "./plugin_health.ts";
import type { AuthThrottle } from "./throttle.ts";
import { SPAN_ATTRIBUTES as A, startSpan } from "./tracing.ts";
import { applyPatch, resolveUser } from "./user.ts";

/** A live provider with everything the host knows about its entry. */
export interface ProviderSlot {
  /** The entry's name. */
  readonly name: string;
  /** The scheme it handles. */
  readonly scheme: Scheme;
  /** Config type (or module label), for traces and `/status`. */
  readonly type?: string;
  /** The entry's realm: the default realm of the users it returns. */
  readonly realm: string;
  /** The realm for `X-Auth-Realm` filtering and challenges; `undefined` for none (token store). */
  readonly filterRealm: string | undefined;
  /** Eligible whatever `X-Auth-Realm` says (the token store checks the owner's realm itself). */
  readonly anyRealm?: boolean;
  /** The plugin instance. */
  readonly provider: Provider;
  /** Metric labels. */
  readonly labels: ProviderLabels;
  /** The plugin's logger. */
  readonly log: Logger;
}

/** A live augmenter with its entry's settings. */
export interface AugmenterSlot {
  /** The entry's name. */
  readonly name: string;
  /** Users of exactly this realm are augmented. */
  readonly realm: string;
  /** Runs after the parallel group, in config order. */
  readonly serial: boolean;
  /** `skip`: authenticate without it on failure; `fail`: answer the upstream-failure status. */
  readonly onError: "skip" | "fail";
  /** The plugin instance. */
  readonly augmenter: Augmenter;
  /** Metric labels. */
  readonly labels: AugmenterLabels;
  /** The plugin's logger. */
  readonly log: Logger;
}

/** Why authentication failed. */
export type AuthFailure = HeaderFailure | "all_failed" | "upstream_unavailable" | "throttled";

/** What the pipeline decided. */
export type AuthOutcome =
  | {
    readonly ok: true;
    readonly user: ResolvedUser;
    readonly provider: string;
    /** An augmenter with `on_error: skip` failed: the user lacks its data (never cached). */
    readonly degraded?: true;
  }
  | { readonly ok: false; readonly reason: AuthFailure; readonly retryAfterS?: number };

/** Settings of the pipeline. */
export interface PipelineOptions {
  /** Providers in config order (the token store last). */
  readonly providers: readonly ProviderSlot[];
  /** Augmenters in config order. */
  readonly augmenters: readonly AugmenterSlot[];
  /** Per-provider timeout. */
  readonly timeoutMs: number;
  /** Per-augmenter timeout. */
  readonly augmenterTimeoutMs: number;
  /** Metrics sink. */
  readonly metrics: GatewayMetrics;
  /** The `auth` logger. */
  readonly log: Logger;
  /** Remembers plugin failures for `/status` and counts upstream failures. */
  readonly health?: PluginHealth;
  /** Brute-force limits (docs/security.md); none when absent. */
  readonly throttle?: AuthThrottle;
}

type RaceResult =
  | { readonly user: ResolvedUser; readonly provider: string }
  | { readonly user?: undefined; readonly unavailable: boolean; readonly lastError?: string };

interface RealmAugmenters {
  readonly parallel: readonly AugmenterSlot[];
  readonly serial: readonly AugmenterSlot[];
}

/** Runs providers and augmenters for one request at a time (it holds no per-request state). */
export class AuthPipeline {
  readonly #options: PipelineOptions;
  readonly #byRealm = new Map<string, RealmAugmenters>();

  /** Creates the pipeline. */
  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  /**
   * Authenticates one request from its `Authorization` and `X-Auth-Realm`
   * values (both already read with `readAsciiHeader`), inside an
   * `authenticate` span. `clientIp` (the resolved client address) is logged
   * and keys the brute-force limits.
   */
  authenticate(
    authorization: string | undefined,
    realmHeader: string | undefined,
    clientIp?: string,
  ): Promise<AuthOutcome> {
    const { log } = this.#options;
    if (log.enabled("debug")) {
      log.debug("auth.request.started", "authentication started", {
        client_ip: clientIp ?? "unknown",
        realm_filter: realmHeader ?? "none",
      });
    }
    const { throttle } = this.#options;
    const gate = throttle?.check(clientIp, authorization);
    if (gate?.blocked) {
      log.throttled("warn", `throttled.${gate.reason}`, "auth.request.throttled", "throttled", {
        reason: gate.reason,
        retry_after_s: gate.retryAfterS,
        client_ip: clientIp ?? "unknown",
      });
      return Promise.resolve({ ok: false, reason: "throttled", retryAfterS: gate.retryAfterS });
    }
    const span = startSpan("authenticate", { [A.realmFilter]: realmHeader ?? "none" });
    return span.run(() => this.#authenticate(authorization, realmHeader)).then((outcome) => {
      if (outcome.ok) span.set({ [A.outcome]: "success", [A.realm]: outcome.user.realm });
      else span.set({ [A.outcome]: outcome.reason });
      span.end();
      if (outcome.ok) throttle?.succeeded(gate?.keys);
      else if (outcome.reason === "all_failed" || outcome.reason === "invalid_header") {
        throttle?.failed(gate?.keys); // never for outages (upstream_unavailable) or no header
      }
      return outcome;
    });
  }

  async #authenticate(
    authorization: string | undefined,
    realmHeader: string | undefined,
  ): Promise<AuthOutcome> {
    const started = performance.now();
    const { log, metrics } = this.#options;
    const parsed = parseAuthorization(authorization);
    if (!parsed.ok) {
      if (parsed.reason === "no_auth_header") {
        log.throttled("debug", "header.missing", "auth.header.missing", "no Authorization header");
      } else {
        log.throttled(
          "warn",
          `header.invalid.${parsed.detail}`,
          "auth.header.invalid",
          "invalid Authorization header",
          { reason: parsed.detail, max_credentials: 3 },
        );
      }
      return this.#fail(parsed.reason, started);
    }
    if (parsed.duplicatesSkipped > 0 && log.enabled("debug")) {
      log.debug("auth.header.duplicate_part_discarded", "duplicate credential part skipped", {
        count: parsed.duplicatesSkipped,
      });
    }
    let unavailable = false;
    for (const [scheme, credential] of parsed.credentials) {
      const eligible = this.#eligible(scheme, realmHeader);
      if (eligible.length === 0) {
        if (log.enabled("debug")) {
          log.debug("auth.provider.not_found", "no provider for this scheme and realm", {
            scheme,
            realm_filter: realmHeader ?? "none",
          });
        }
        continue;
      }
      const result = await this.#race(eligible, credential, realmHeader);
      if (result.user) {
        const augmentation = await this.#augment(result.user);
        if (augmentation === undefined) return this.#fail("upstream_unavailable", started);
        const augmented = augmentation.user;
        const seconds = (performance.now() - started) / 1000;
        metrics.recordAuth("success", augmented.realm, seconds);
        if (log.enabled("info")) {
          log.info("auth.request.authenticated", "request authenticated", {
            username: augmented.username,
            realm: augmented.realm,
            provider: result.provider,
            roles_count: augmented.roles.length,
            roles: augmented.roles.join(","),
            attributes_count: Object.keys(augmented.attributes).length,
            scopes_services_count: Object.keys(augmented.scopes).length,
          });
        }
        return augmentation.degraded
          ? { ok: true, user: augmented, provider: result.provider, degraded: true }
          : { ok: true, user: augmented, provider: result.provider };
      }
      unavailable ||= result.unavailable;
      log.throttled(
        "warn",
        `provider.all_failed.${scheme}`,
        "auth.provider.all_failed",
        "every eligible provider failed",
        { scheme, last_error: result.lastError ?? "rejected" },
      );
    }
    return this.#fail(unavailable ? "upstream_unavailable" : "all_failed", started);
  }

  #fail(reason: Exclude<AuthFailure, "throttled">, started: number): AuthOutcome {
    this.#options.metrics.recordAuth(reason, "unknown", (performance.now() - started) / 1000);
    return { ok: false, reason };
  }

  #eligible(scheme: string, realmHeader: string | undefined): ProviderSlot[] {
    const wanted = realmHeader?.toLowerCase();
    return this.#options.providers.filter((slot) =>
      slot.scheme === scheme &&
      (wanted === undefined || slot.anyRealm === true ||
        (slot.filterRealm !== undefined && slot.filterRealm.toLowerCase() === wanted))
    );
  }

  /** Runs the providers concurrently; the first user wins and the others are aborted. */
  #race(
    slots: readonly ProviderSlot[],
    credential: string,
    realmHint: string | undefined,
  ): Promise<RaceResult> {
    const { timeoutMs, metrics, health } = this.#options;
    // With one provider there is no race to cancel: no controller, no abort event.
    const winner = slots.length > 1 ? new AbortController() : undefined;
    let pending = slots.length;
    let unavailable = false;
    let lastError: string | undefined;
    return new Promise<RaceResult>((resolve) => {
      for (const slot of slots) {
        const started = performance.now();
        const span = startSpan(`provider ${slot.name}`, {
          [A.providerName]: slot.name,
          [A.providerType]: slot.type ?? "unknown",
          [A.providerScheme]: slot.scheme,
          [A.providerRealm]: slot.filterRealm ?? "unknown",
        });
        runBounded(
          timeoutMs,
          winner?.signal,
          (signal) =>
            span.run(() =>
              slot.provider.authenticate(credential, { signal, log: slot.log, realmHint })
            ),
        ).then((outcome) => {
          if (winner?.signal.aborted) { // lost the race: no metrics, as the original
            span.set({ [A.outcome]: "cancelled" });
            span.end();
            return;
          }
          const seconds = (performance.now() - started) / 1000;
          if (outcome.kind === "value" && outcome.value !== undefined) {
            try {
              const user = resolveUser(outcome.value, slot.realm);
              metrics.recordProviderAttempt(slot.labels, "success", seconds);
              span.set({ [A.outcome]: "success" });
              span.end();
              if (slot.log.enabled("debug")) {
                slot.log.debug("auth.provider.success", "provider accepted the credential", {
                  provider: slot.name,
                });
              }
              winner?.abort(LOST_RACE);
              resolve({ user, provider: slot.name });
              return;
            } catch (error) {
              lastError = scrubCredential(describe(error), slot.scheme, credential);
              slot.log.error("auth.provider.invalid_user", lastError, { provider: slot.name });
              metrics.recordProviderAttempt(slot.labels, "error", seconds);
              health?.providerFailed(slot.name, "error", lastError);
              span.set({ [A.outcome]: "error" });
              span.fail("invalid user");
            }
          } else if (outcome.kind === "timeout") {
            unavailable = true;
            lastError = `timed out after ${timeoutMs} ms`;
            metrics.recordProviderAttempt(slot.labels, "timeout");
            health?.providerFailed(slot.name, "timeout", lastError, "timeout");
            span.set({ [A.outcome]: "timeout", [A.upstreamKind]: "timeout" });
            span.fail("timeout");
            if (slot.log.enabled("debug")) {
              slot.log.debug("auth.provider.timeout", "provider timed out", {
                provider: slot.name,
                timeout_ms: timeoutMs,
              });
            }
          } else {
            metrics.recordProviderAttempt(slot.labels, "error", seconds);
            if (outcome.kind === "error") {
              const upstream = outcome.error instanceof UpstreamUnavailableError
                ? outcome.error
                : undefined;
              unavailable ||= upstream !== undefined;
              lastError = scrubCredential(describe(outcome.error), slot.scheme, credential);
              health?.providerFailed(
                slot.name,
                upstream ? "upstream_unavailable" : "error",
                lastError,
                upstream?.kind,
              );
              span.set(
                upstream
                  ? { [A.outcome]: "upstream_unavailable", [A.upstreamKind]: upstream.kind }
                  : { [A.outcome]: "error" },
              );
              span.fail(upstream ? "upstream unavailable" : "provider error");
              if (slot.log.enabled("debug")) {
                slot.log.debug("auth.provider.failed", "provider failed", {
                  provider: slot.name,
                  error: lastError,
                });
              }
            } else {
              lastError = "rejected";
              span.set({ [A.outcome]: "rejected" });
            }
          }
          span.end();
          if (--pending === 0) resolve({ unavailable, lastError });
        });
      }
    });
  }

  #augmentersFor(realm: string): RealmAugmenters {
    let group = this.#byRealm.get(realm);
    if (group === undefined) {
      const selected = this.#options.augmenters.filter((a) => a.realm === realm);
      group = {
        parallel: selected.filter((a) => !a.serial),
        serial: selected.filter((a) => a.serial),
      };
      if (this.#byRealm.size < 1024) this.#byRealm.set(realm, group);
    }
    return group;
  }

  /**
   * Applies the realm's augmenters; `undefined` when a `fail`-policy augmenter
   * failed, `degraded` when a `skip`-policy one did.
   */
  async #augment(
    user: ResolvedUser,
  ): Promise<{ user: ResolvedUser; degraded: boolean } | undefined> {
    const { parallel, serial } = this.#augmentersFor(user.realm);
    if (parallel.length === 0 && serial.length === 0) return { user, degraded: false };
    let degraded = false;
    const patches = await Promise.all(parallel.map((slot) => this.#runAugmenter(slot, user)));
    for (const patch of patches) {
      if (patch === FAILED) return undefined;
      if (patch === SKIPPED) degraded = true;
      else user = applyPatch(user, patch);
    }
    for (const slot of serial) {
      const patch = await this.#runAugmenter(slot, user);
      if (patch === FAILED) return undefined;
      if (patch === SKIPPED) degraded = true;
      else user = applyPatch(user, patch);
    }
    return { user, degraded };
  }

  async #runAugmenter(
    slot: AugmenterSlot,
    user: ResolvedUser,
  ): Promise<UserPatch | undefined | typeof FAILED | typeof SKIPPED> {
    const { augmenterTimeoutMs, metrics, health } = this.#options;
    const started = performance.now();
    const span = startSpan(`augmenter ${slot.name}`, {
      [A.augmenterName]: slot.name,
      [A.augmenterType]: slot.labels.type,
      [A.augmenterRealm]: slot.realm,
    });
    const outcome = await runBounded(
      augmenterTimeoutMs,
      undefined,
      (signal) => span.run(() => slot.augmenter.augment(user, { signal, log: slot.log })),
    );
    const seconds = (performance.now() - started) / 1000;
    if (outcome.kind === "value") {
      metrics.recordAugmenter(slot.labels, user.realm, "success", seconds);
      span.set({ [A.outcome]: "success" });
      span.end();
      return outcome.value;
    }
    metrics.recordAugmenter(slot.labels, user.realm, "error", seconds);
    const error = outcome.kind === "error"
      ? describe(outcome.error)
      : `timed out after ${augmenterTimeoutMs} ms`;
    health?.augmenterFailed(slot.name, outcome.kind === "timeout" ? "timeout" : "error", error);
    span.set({ [A.outcome]: outcome.kind === "timeout" ? "timeout" : "error" });
    span.fail(outcome.kind === "timeout" ? "timeout" : "augmenter error");
    span.end();
    slot.log.throttled(
      "warn",
      `augmenter.failed.${user.realm}.${slot.name}`,
      "auth.augmenter.failed",
      "augmenter failed",
      { augmenter: slot.name, realm: user.realm, error, on_error: slot.onError },
    );
    return slot.onError === "fail" ? FAILED : SKIPPED;
  }
}

const FAILED = Symbol("augmenter failed");
// Built once: a DOMException per aborted race costs a stack capture.
const LOST_RACE = new DOMException("another provider accepted the credential", "AbortError");
const SKIPPED = Symbol("augmenter failed and skipped");

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
