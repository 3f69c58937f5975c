/**
 * The authentication pipeline (spec section 4 and 6.1): parse the credentials,
 * race the eligible providers under a timeout, then run the realm's
 * augmenters, each under a timeout too.
 *
 * Folder `lib/auth/`: the pipeline, provider race, augmentation, decision cache,
 * brute-force throttle, credential parsing, challenges and user normalisation. Imports every
 * folder above it (`util`, `config`, `observability`, `plugins`, `jwt`), never `store` or `http`.
 *
 * @module
 */

import { Augmentation, type Augmented, type AugmenterSlot } from "./augmentation.ts";
import { type HeaderFailure, parseAuthorization, UNREADABLE_REALM } from "./credentials.ts";
import type { Logger } from "../observability/log.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { ResolvedUser } from "../plugin.ts";
import type { PluginHealth } from "../plugins/health.ts";
import { type ProviderSlot, raceProviders, type RaceResult } from "./provider_race.ts";
import type { AuthThrottle, BasicVerdict } from "./throttle.ts";
import { SPAN_ATTRIBUTES as A, startSpan } from "../observability/tracing.ts";
import {
  type AugmenterRecord,
  type Explanation,
  newExplanation,
  type ProviderRecord,
  REASONS,
} from "./explanation.ts";

export type { AugmenterSlot, ProviderSlot };

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

/** One request's way through its credentials (kept across promise turns). */
interface Attempt {
  /** The credentials not tried yet, in header order. */
  readonly credentials: Iterator<[string, string]>;
  readonly realmHeader: string | undefined;
  /** When the decision started (`performance.now()`), for the duration metric. */
  readonly started: number;
  /** What the Basic credential's providers said, for the brute-force limits. */
  readonly basic: { verdict: BasicVerdict };
  /** An earlier credential's providers could not decide. */
  unavailable: boolean;
  readonly records?: Map<ProviderSlot, ProviderRecord>;
  readonly augmenterRecords?: AugmenterRecord[];
}

/** Runs providers and augmenters for one request at a time (it holds no per-request state). */
export class AuthPipeline {
  readonly #options: PipelineOptions;
  readonly #augmentation: Augmentation;
  /** Providers per scheme, in config order: built once, not per request. */
  readonly #byScheme = new Map<string, ProviderSlot[]>();

  /** Creates the pipeline. */
  constructor(options: PipelineOptions) {
    this.#options = options;
    for (const slot of options.providers) {
      const slots = this.#byScheme.get(slot.scheme);
      if (slots === undefined) this.#byScheme.set(slot.scheme, [slot]);
      else slots.push(slot);
    }
    this.#augmentation = new Augmentation({
      augmenters: options.augmenters,
      timeoutMs: options.augmenterTimeoutMs,
      metrics: options.metrics,
      health: options.health,
    });
  }

  /**
   * Authenticates one request from its `Authorization` and `X-Auth-Realm`
   * values (both already read with `readAsciiHeader`), inside an
   * `authenticate` span. `clientIp` (the resolved client address) is logged
   * and keys the brute-force limits. `explanation`, when given (`/explain`),
   * receives every provider's and augmenter's part in the decision. The
   * outcome comes back synchronously when every step answered synchronously.
   */
  authenticate(
    authorization: string | undefined,
    realmHeader: string | undefined,
    clientIp?: string,
    explanation?: Explanation,
  ): AuthOutcome | Promise<AuthOutcome> {
    const { log } = this.#options;
    if (log.enabled("debug")) {
      log.debug("auth.request.started", "authentication started", {
        client_ip: clientIp ?? "unknown",
        realm_filter: realmHeader ?? "none",
      });
    }
    const { throttle } = this.#options;
    // At debug, every request logs its outcome with each provider's part (as /explain shows).
    const traced = explanation ?? (log.enabled("debug") ? newExplanation() : undefined);
    const records = traced && this.#records(traced);
    const gate = throttle?.check(clientIp, authorization);
    if (gate?.blocked) {
      log.throttled("warn", `throttled.${gate.reason}`, "auth.request.throttled", "throttled", {
        reason: gate.reason,
        retry_after_s: gate.retryAfterS,
        client_ip: clientIp ?? "unknown",
      });
      records?.forEach((r) => (r.result = "not_run", r.reason = REASONS.throttled));
      const throttled: AuthOutcome = {
        ok: false,
        reason: "throttled",
        retryAfterS: gate.retryAfterS,
      };
      if (traced) this.#logOutcome(throttled, traced);
      return throttled;
    }
    const span = startSpan("authenticate", { [A.realmFilter]: realmHeader ?? "none" });
    const basic = { verdict: "absent" as BasicVerdict };
    const finish = (outcome: AuthOutcome) => {
      if (traced) this.#logOutcome(outcome, traced);
      if (outcome.ok) span.set({ [A.outcome]: "success", [A.realm]: outcome.user.realm });
      else span.set({ [A.outcome]: outcome.reason });
      span.end();
      // Outages (upstream_unavailable) and a missing header never count by themselves.
      const clientFailed = !outcome.ok &&
        (outcome.reason === "all_failed" || outcome.reason === "invalid_header");
      throttle?.settle(gate, clientFailed, basic.verdict);
      return outcome;
    };
    const outcome = span.run(() =>
      this.#authenticate(authorization, realmHeader, basic, records, traced?.augmenters)
    );
    return outcome instanceof Promise ? outcome.then(finish) : finish(outcome);
  }

  /** `auth.request.outcome` at debug: the outcome and every provider's and augmenter's part. */
  #logOutcome(outcome: AuthOutcome, traced: Explanation): void {
    const { log } = this.#options;
    if (!log.enabled("debug")) return;
    log.debug("auth.request.outcome", "authentication outcome", {
      outcome: outcome.ok ? "success" : outcome.reason,
      ...(outcome.ok ? { provider: outcome.provider } : {}),
      providers: traced.providers.map((p) => `${p.name}=${p.result} (${p.reason})`).join("; "),
      augmenters: traced.augmenters.map((a) => `${a.name}=${a.result}`).join("; "),
    });
  }

  /** One record per configured provider, in config order (`skipped` until it takes part). */
  #records(explanation: Explanation): Map<ProviderSlot, ProviderRecord> {
    const records = new Map<ProviderSlot, ProviderRecord>();
    for (const slot of this.#options.providers) {
      const record: ProviderRecord = {
        name: slot.name,
        type: slot.type ?? "unknown",
        realm: slot.filterRealm ?? null,
        result: "skipped",
        reason: REASONS.scheme,
        duration_ms: 0,
      };
      records.set(slot, record);
      explanation.providers.push(record);
    }
    return records;
  }

  /**
   * Parses the credentials and tries them in order. Synchronous when every
   * step is (one provider answering synchronously, no augmenter): the outcome
   * then comes back without a promise turn.
   */
  #authenticate(
    authorization: string | undefined,
    realmHeader: string | undefined,
    basic: { verdict: BasicVerdict },
    records?: Map<ProviderSlot, ProviderRecord>,
    augmenterRecords?: AugmenterRecord[],
  ): AuthOutcome | Promise<AuthOutcome> {
    const started = performance.now();
    const { log } = this.#options;
    const parsed = parseAuthorization(authorization);
    if (records !== undefined) {
      if (!parsed.ok) records.forEach((r) => r.reason = REASONS.noCredential);
      else {
        for (const [scheme] of parsed.credentials) {
          const eligible = new Set(this.#eligible(scheme, realmHeader));
          for (const slot of this.#byScheme.get(scheme) ?? []) {
            const record = records.get(slot)!;
            if (eligible.has(slot)) (record.result = "not_run", record.reason = REASONS.notReached);
            else record.reason = REASONS.realm;
          }
        }
      }
    }
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
    if (parsed.credentials.has("Basic")) basic.verdict = "undecided";
    return this.#tryCredentials({
      credentials: parsed.credentials.entries(),
      realmHeader,
      started,
      basic,
      unavailable: false,
      records,
      augmenterRecords,
    });
  }

  /** Races the providers of each remaining credential in turn until one accepts it. */
  #tryCredentials(attempt: Attempt): AuthOutcome | Promise<AuthOutcome> {
    const { log } = this.#options;
    // next() by hand: the iterator goes on after a race that settles later.
    for (let next = attempt.credentials.next(); !next.done; next = attempt.credentials.next()) {
      const [scheme, credential] = next.value;
      const eligible = this.#eligible(scheme, attempt.realmHeader);
      if (eligible.length === 0) {
        if (log.enabled("debug")) {
          log.debug("auth.provider.not_found", "no provider for this scheme and realm", {
            scheme,
            realm_filter: attempt.realmHeader ?? "none",
          });
        }
        continue;
      }
      const { records } = attempt;
      const raced = records && eligible.map((slot) => {
        const record = records.get(slot)!;
        record.reason = REASONS.notRun;
        return record;
      });
      const result = raceProviders(eligible, credential, attempt.realmHeader, this.#options, raced);
      return result instanceof Promise
        ? result.then((settled) => this.#raced(settled, scheme, attempt))
        : this.#raced(result, scheme, attempt);
    }
    return this.#fail(attempt.unavailable ? "upstream_unavailable" : "all_failed", attempt.started);
  }

  /** After a credential's race: augment its winner, or go on with the next credential. */
  #raced(result: RaceResult, scheme: string, attempt: Attempt): AuthOutcome | Promise<AuthOutcome> {
    if (scheme === "Basic" && (result.user || !result.unavailable)) {
      attempt.basic.verdict = result.user ? "accepted" : "rejected";
    }
    if (result.user) {
      const { provider } = result;
      const augmentation = this.#augmentation.augment(result.user, attempt.augmenterRecords);
      return augmentation instanceof Promise
        ? augmentation.then((augmented) => this.#augmented(augmented, provider, attempt.started))
        : this.#augmented(augmentation, provider, attempt.started);
    }
    attempt.unavailable ||= result.unavailable;
    this.#options.log.throttled(
      "warn",
      `provider.all_failed.${scheme}`,
      "auth.provider.all_failed",
      "every eligible provider failed",
      { scheme, last_error: result.lastError ?? "rejected", reason: result.reason },
      result.reason,
    );
    return this.#tryCredentials(attempt);
  }

  /** The success outcome once the augmenters ran (`undefined`: one of them failed the request). */
  #augmented(
    augmentation: Augmented | undefined,
    provider: string,
    started: number,
  ): AuthOutcome {
    if (augmentation === undefined) return this.#fail("upstream_unavailable", started);
    const { log, metrics } = this.#options;
    const augmented = augmentation.user;
    const seconds = (performance.now() - started) / 1000;
    metrics.recordAuth("success", augmented.realm, seconds);
    if (log.enabled("info")) {
      log.info("auth.request.authenticated", "request authenticated", {
        username: augmented.username,
        realm: augmented.realm,
        provider,
        roles_count: augmented.roles.length,
        roles: augmented.roles.join(","),
        attributes_count: Object.keys(augmented.attributes).length,
        scopes_services_count: Object.keys(augmented.scopes).length,
      });
    }
    return augmentation.degraded
      ? { ok: true, user: augmented, provider, degraded: true }
      : { ok: true, user: augmented, provider };
  }

  #fail(reason: Exclude<AuthFailure, "throttled">, started: number): AuthOutcome {
    this.#options.metrics.recordAuth(reason, "unknown", (performance.now() - started) / 1000);
    return { ok: false, reason };
  }

  #eligible(scheme: string, realmHeader: string | undefined): readonly ProviderSlot[] {
    const slots = this.#byScheme.get(scheme) ?? [];
    if (realmHeader === undefined) return slots;
    if (realmHeader === UNREADABLE_REALM) return [];
    const wanted = realmHeader.toLowerCase();
    return slots.filter((slot) =>
      slot.anyRealm === true || slot.filterRealm?.toLowerCase() === wanted
    );
  }
}
