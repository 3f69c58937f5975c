/**
 * Augmentation (spec 6.1): a user's realm selects the augmenters; the
 * parallel ones run together, then the serial ones in config order, each
 * under a timeout. A failure follows the entry's `on_error` policy.
 *
 * @module
 */

import { describeError } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { AugmenterLabels, GatewayMetrics } from "../observability/metrics.ts";
import type { Augmenter, ResolvedUser, UserPatch } from "../plugin.ts";
import { runBounded } from "../util/bounded_call.ts";
import type { PluginHealth } from "../plugins/health.ts";
import { SPAN_ATTRIBUTES as A, startSpan } from "../observability/tracing.ts";
import { applyPatch } from "../../packages/plugin/_host/user.ts";
import type { AugmenterRecord } from "./explanation.ts";

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

/** Settings of {@link Augmentation}. */
export interface AugmentationOptions {
  /** Augmenters in config order. */
  readonly augmenters: readonly AugmenterSlot[];
  /** Per-augmenter timeout. */
  readonly timeoutMs: number;
  /** Metrics sink. */
  readonly metrics: GatewayMetrics;
  /** Remembers plugin failures for `/status`. */
  readonly health?: PluginHealth;
}

/** An augmented user; `degraded` when a `skip`-policy augmenter failed. */
export interface Augmented {
  /** The user with every successful patch applied. */
  readonly user: ResolvedUser;
  /** A `skip`-policy augmenter failed: the user lacks its data. */
  readonly degraded: boolean;
}

interface RealmAugmenters {
  readonly parallel: readonly AugmenterSlot[];
  readonly serial: readonly AugmenterSlot[];
}

const FAILED = Symbol("augmenter failed");
const SKIPPED = Symbol("augmenter failed and skipped");

/** Applies the configured augmenters to authenticated users. */
export class Augmentation {
  readonly #options: AugmentationOptions;
  readonly #byRealm = new Map<string, RealmAugmenters>();

  /** Creates the stage. */
  constructor(options: AugmentationOptions) {
    this.#options = options;
  }

  /**
   * Applies the realm's augmenters; `undefined` when a `fail`-policy augmenter
   * failed, `degraded` when a `skip`-policy one did. Synchronous when the
   * realm has no augmenter.
   */
  augment(
    user: ResolvedUser,
    records?: AugmenterRecord[],
  ): Augmented | Promise<Augmented | undefined> {
    const group = this.#augmentersFor(user.realm);
    // No augmenter for the realm: nothing to wait for.
    if (group.parallel.length === 0 && group.serial.length === 0) return { user, degraded: false };
    return this.#augment(group, user, records);
  }

  async #augment(
    { parallel, serial }: RealmAugmenters,
    user: ResolvedUser,
    records?: AugmenterRecord[],
  ): Promise<Augmented | undefined> {
    let degraded = false;
    const patches = await Promise.all(parallel.map((slot) => this.#run(slot, user, records)));
    for (const patch of patches) {
      if (patch === FAILED) return undefined;
      if (patch === SKIPPED) degraded = true;
      else user = applyPatch(user, patch);
    }
    for (const slot of serial) {
      const patch = await this.#run(slot, user, records);
      if (patch === FAILED) return undefined;
      if (patch === SKIPPED) degraded = true;
      else user = applyPatch(user, patch);
    }
    return { user, degraded };
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

  async #run(
    slot: AugmenterSlot,
    user: ResolvedUser,
    records: AugmenterRecord[] | undefined,
  ): Promise<UserPatch | undefined | typeof FAILED | typeof SKIPPED> {
    const { timeoutMs, metrics, health } = this.#options;
    const started = performance.now();
    const span = startSpan(`augmenter ${slot.name}`, {
      [A.augmenterName]: slot.name,
      [A.augmenterType]: slot.labels.type,
      [A.augmenterRealm]: slot.realm,
    });
    const outcome = await runBounded(
      timeoutMs,
      undefined,
      (signal) => span.run(() => slot.augmenter.augment(user, { signal, log: slot.log })),
    );
    const seconds = (performance.now() - started) / 1000;
    records?.push({
      name: slot.name,
      type: slot.labels.type,
      result: outcome.kind === "value"
        ? "applied"
        : outcome.kind === "timeout"
        ? "timeout"
        : "error",
      roles_added: outcome.kind === "value" ? [...outcome.value?.roles ?? []] : [],
      attributes_set: outcome.kind === "value" ? Object.keys(outcome.value?.attributes ?? {}) : [],
    });
    if (outcome.kind === "value") {
      metrics.recordAugmenter(slot.labels, user.realm, "success", seconds);
      span.set({ [A.outcome]: "success" });
      span.end();
      return outcome.value;
    }
    metrics.recordAugmenter(slot.labels, user.realm, "error", seconds);
    const error = outcome.kind === "error"
      ? describeError(outcome.error)
      : `timed out after ${timeoutMs} ms`;
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
