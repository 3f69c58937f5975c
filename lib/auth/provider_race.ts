/**
 * The provider race (spec 4.3): every eligible provider runs concurrently
 * under a timeout; the first user wins and the others are aborted. Each
 * attempt is traced, counted and, when it fails, remembered for `/status`.
 * Nobody won: "unavailable" (503) only when a provider could not decide and
 * none rejected the credential as its own ({@link CredentialRejectedError}).
 *
 * @module
 */

import { describeError } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { GatewayMetrics, ProviderLabels } from "../observability/metrics.ts";
import {
  CredentialRejectedError,
  type Provider,
  type ResolvedUser,
  type Scheme,
  UpstreamUnavailableError,
  type User,
} from "../plugin.ts";
import { type BoundedOutcome, callBounded } from "../util/bounded_call.ts";
import { type PluginHealth, scrubCredential } from "../plugins/health.ts";
import { SPAN_ATTRIBUTES as A, startSpan } from "../observability/tracing.ts";
import { resolveUser } from "../../packages/plugin/_host/user.ts";
import {
  type ProviderRecord,
  type ProviderResult,
  REASONS,
  timeoutReason,
  unavailableReason,
} from "./explanation.ts";

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

/** How a race ended: the winner, or why nobody won. */
export type RaceResult =
  | { readonly user: ResolvedUser; readonly provider: string }
  | {
    readonly user?: undefined;
    readonly unavailable: boolean;
    readonly lastError?: string;
    /** The fixed reason of the last failure (see `explanation.ts`), for log summaries. */
    readonly reason: string;
  };

/** What a race needs besides its providers. */
export interface RaceSettings {
  /** Per-provider timeout. */
  readonly timeoutMs: number;
  /** Metrics sink. */
  readonly metrics: GatewayMetrics;
  /** Remembers plugin failures for `/status`. */
  readonly health?: PluginHealth;
}

/** What a provider may say through `explain()`: a short phrase of lower-case words. */
const SAFE_REASON = /^[a-z][a-z0-9 _()-]{0,63}$/;

// Built once: a DOMException per aborted race costs a stack capture.
const LOST_RACE = new DOMException("another provider accepted the credential", "AbortError");

/**
 * Runs the providers concurrently; the first user wins and the others are
 * aborted. `records`, when given (only for `/explain`), is index-aligned with
 * `slots` and gets each provider's result; a provider that never reports
 * keeps what the record said (`not_run`). A single provider that answers
 * synchronously is settled at once: the result comes back without a promise.
 */
export function raceProviders(
  slots: readonly ProviderSlot[],
  credential: string,
  realmHint: string | undefined,
  { timeoutMs, metrics, health }: RaceSettings,
  records?: readonly ProviderRecord[],
): RaceResult | Promise<RaceResult> {
  // With one provider there is no race to cancel: no controller, no abort event.
  const winner = slots.length > 1 ? new AbortController() : undefined;
  let pending = slots.length;
  let unavailable = false;
  // A provider rejected the credential as its own: 401 whatever the others' state.
  let claimed = false;
  let lastError: string | undefined;
  let reason: string = REASONS.rejected;
  // The first result wins; `resolve` exists once a promise was handed out.
  let result: RaceResult | undefined;
  let resolve: ((result: RaceResult) => void) | undefined;
  const finish = (won: RaceResult) => {
    if (result !== undefined) return;
    result = won;
    resolve?.(won);
  };
  for (const [index, slot] of slots.entries()) {
    const started = performance.now();
    const record = records?.[index];
    let told: string | undefined; // the provider's own reason, when explaining
    const explain = record &&
      ((why: string) => {
        if (typeof why === "string" && SAFE_REASON.test(why)) told = why;
      });
    const note = (result: ProviderResult, why: string) => {
      reason = why;
      if (record === undefined) return;
      record.result = result;
      record.reason = why;
      record.duration_ms = Math.round((performance.now() - started) * 100) / 100;
    };
    const span = startSpan(`provider ${slot.name}`, {
      [A.providerName]: slot.name,
      [A.providerType]: slot.type ?? "unknown",
      [A.providerScheme]: slot.scheme,
      [A.providerRealm]: slot.filterRealm ?? "unknown",
    });
    const settle = (outcome: BoundedOutcome<User | undefined>) => {
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
          note("accepted", REASONS.accepted);
          if (slot.log.enabled("debug")) {
            slot.log.debug("auth.provider.success", "provider accepted the credential", {
              provider: slot.name,
            });
          }
          winner?.abort(LOST_RACE);
          finish({ user, provider: slot.name });
          return;
        } catch (error) {
          lastError = scrubCredential(describeError(error), slot.scheme, credential);
          slot.log.error("auth.provider.invalid_user", lastError, { provider: slot.name });
          metrics.recordProviderAttempt(slot.labels, "error", seconds);
          health?.providerFailed(slot.name, "error", lastError);
          note("error", REASONS.invalidUser);
          span.set({ [A.outcome]: "error" });
          span.fail("invalid user");
        }
      } else if (outcome.kind === "timeout") {
        unavailable = true;
        lastError = `timed out after ${timeoutMs} ms`;
        metrics.recordProviderAttempt(slot.labels, "timeout");
        health?.providerFailed(slot.name, "timeout", lastError, "timeout");
        note("timeout", timeoutReason(timeoutMs));
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
        if (outcome.kind === "error" && outcome.error instanceof CredentialRejectedError) {
          claimed = true;
          lastError = "rejected";
          span.set({ [A.outcome]: "rejected" });
          const why = outcome.error.message;
          note("rejected", told ?? (SAFE_REASON.test(why) ? why : REASONS.rejected));
        } else if (outcome.kind === "error") {
          const upstream = outcome.error instanceof UpstreamUnavailableError
            ? outcome.error
            : undefined;
          unavailable ||= upstream !== undefined;
          lastError = scrubCredential(describeError(outcome.error), slot.scheme, credential);
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
          if (upstream) note("upstream_unavailable", unavailableReason(upstream.kind));
          else note("error", REASONS.error);
          if (slot.log.enabled("debug")) {
            slot.log.debug("auth.provider.failed", "provider failed", {
              provider: slot.name,
              error: lastError,
            });
          }
        } else {
          lastError = "rejected";
          span.set({ [A.outcome]: "rejected" });
          note("rejected", told ?? REASONS.rejected);
        }
      }
      span.end();
      if (--pending === 0) finish({ unavailable: unavailable && !claimed, lastError, reason });
    };
    const outcome = callBounded(
      timeoutMs,
      winner?.signal,
      (signal) =>
        span.run(() =>
          slot.provider.authenticate(
            credential,
            explain === undefined
              ? { signal, log: slot.log, realmHint }
              : { signal, log: slot.log, realmHint, explain },
          )
        ),
    );
    // Several providers settle in promise turns, as before: every one starts before any wins.
    if (outcome instanceof Promise || winner !== undefined) Promise.resolve(outcome).then(settle);
    else settle(outcome);
  }
  return result ?? new Promise<RaceResult>((done) => resolve = done);
}
