/**
 * Brute-force limits (`auth.brute_force`, docs/security.md): failed attempts
 * are counted per address+username pair, per address and per username in
 * fixed windows; a key over its limit is refused for `block_s` without
 * running any provider. Each table holds at most {@link MAX_THROTTLE_KEYS}
 * keys (least recently used evicted); usernames are kept only as HMACs under
 * a per-process secret, and passwords never.
 *
 * @module
 */

import { type Cidr, cidrContains, formatIp, parseCidr, parseIp } from "../util/cidr.ts";
import type { BruteForceConfig } from "../config/types.ts";
import { createCredentialKeyer } from "../../packages/plugin/_host/credential_key.ts";
import { parseAuthorization } from "./credentials.ts";
import type { CounterSeries } from "../observability/metrics_families.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { LruMap } from "../../packages/plugin/_host/lru_map.ts";
import { decodeBasicCredential } from "../plugin.ts";

/** Keys per table (pairs, addresses, usernames). */
export const MAX_THROTTLE_KEYS = 10_000;

/** Which limit refused a request (the `reason` label of `authotron_auth_throttled_total`). */
export type ThrottleReason = "address" | "pair" | "username";

/** What {@link AuthThrottle.check} decided for one request. */
export type ThrottleCheck =
  | { readonly blocked: false; readonly keys: ThrottleKeys | undefined }
  | { readonly blocked: true; readonly reason: ThrottleReason; readonly retryAfterS: number };

/**
 * What became of a request's Basic credential: `accepted` or `rejected` by
 * the Basic providers, `undecided` (no eligible provider, an outage, or not
 * reached because an earlier credential already won), `absent` (none sent).
 */
export type BasicVerdict = "accepted" | "rejected" | "undecided" | "absent";

/** The keys one request is counted under (opaque to callers). */
export interface ThrottleKeys {
  readonly address: string;
  readonly user: string | undefined;
}

interface Slot {
  count: number;
  windowEnds: number;
  blockedUntil: number;
}

/** A fixed-window failure counter over at most `maxKeys` keys (LRU). */
export class FailureTable {
  readonly #slots = new LruMap<string, Slot>();
  readonly #maxKeys: number;

  /** Creates an empty table. */
  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys;
  }

  /** Keys held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Milliseconds `key` stays blocked from `now`, 0 when it is not blocked. */
  blockedFor(key: string, now: number): number {
    const slot = this.#slots.get(key);
    return slot !== undefined && slot.blockedUntil > now ? slot.blockedUntil - now : 0;
  }

  /** Counts a failure; blocks the key for `blockMs` when it reaches `limit` in the window. */
  fail(key: string, now: number, limit: number, windowMs: number, blockMs: number): void {
    let slot = this.#slots.get(key);
    if (slot === undefined || slot.windowEnds <= now) {
      slot = { count: 0, windowEnds: now + windowMs, blockedUntil: slot?.blockedUntil ?? 0 };
    }
    if (++slot.count >= limit) { // blocked; afterwards a fresh window starts
      slot.blockedUntil = now + blockMs;
      slot.count = 0;
      slot.windowEnds = now;
    }
    this.#slots.set(key, slot); // now the most recently used
    this.#slots.evictBeyond(this.#maxKeys);
  }

  /** Forgets a key. */
  clear(key: string): void {
    this.#slots.delete(key);
  }
}

/** Options of {@link AuthThrottle}. */
export interface ThrottleOptions {
  /** Keys per table (default {@link MAX_THROTTLE_KEYS}). */
  readonly maxKeys?: number;
  /** Monotonic clock in milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

const parsedRanges = new WeakMap<readonly string[], readonly Cidr[]>();

function ranges(list: readonly string[]): readonly Cidr[] {
  let parsed = parsedRanges.get(list);
  if (parsed === undefined) {
    parsed = list.flatMap((text) => parseCidr(text) ?? []);
    parsedRanges.set(list, parsed);
  }
  return parsed;
}

// Canonical forms of recent peer addresses: parsing and formatting an address
// costs more than the rest of a cached request. Bounded: cleared when full.
const canonicalPeers = new Map<string, string>();
const MAX_CANONICAL_PEERS = 4096;

function canonicalPeer(peer: string): string {
  let canonical = canonicalPeers.get(peer);
  if (canonical === undefined) {
    const bytes = parseIp(peer);
    canonical = bytes === undefined ? peer : formatIp(bytes);
    if (canonicalPeers.size >= MAX_CANONICAL_PEERS) canonicalPeers.clear();
    canonicalPeers.set(peer, canonical);
  }
  return canonical;
}

/** True when `peer` lies in `trustedProxies` (CIDR strings, as configured). */
export function isTrustedProxy(
  peer: string | undefined,
  trustedProxies: readonly string[],
): boolean {
  const bytes = peer === undefined ? undefined : parseIp(peer);
  return bytes !== undefined && ranges(trustedProxies).some((r) => cidrContains(r, bytes));
}

// Resolved (peer, X-Real-IP) pairs per trusted-proxy list: behind an ingress every request
// carries both, and parsing two addresses, matching the ranges and formatting the result cost
// ~1.5 µs per request. Bounded like canonicalPeers; values longer than any IP are not kept.
const resolvedAddresses = new WeakMap<readonly string[], Map<string, string>>();
const MAX_RESOLVED_ADDRESSES = 4096;
const MAX_REAL_IP_LENGTH = 64;

/**
 * Resolves the client address: the peer, or `X-Real-IP` when the peer lies in
 * `trustedProxies` (CIDR strings, as configured) and the header is an IP.
 */
export function resolveClientAddress(
  peer: string | undefined,
  realIpHeader: string | undefined,
  trustedProxies: readonly string[],
): string | undefined {
  if (peer === undefined) return undefined;
  if (realIpHeader === undefined) return canonicalPeer(peer);
  if (realIpHeader.length > MAX_REAL_IP_LENGTH) {
    return resolveForwarded(peer, realIpHeader, trustedProxies);
  }
  let memo = resolvedAddresses.get(trustedProxies);
  if (memo === undefined) {
    memo = new Map();
    resolvedAddresses.set(trustedProxies, memo);
  }
  // A peer address never contains a space, so the pair is unambiguous.
  const key = `${peer} ${realIpHeader}`;
  let address = memo.get(key);
  if (address === undefined) {
    address = resolveForwarded(peer, realIpHeader, trustedProxies);
    if (memo.size >= MAX_RESOLVED_ADDRESSES) memo.clear();
    memo.set(key, address);
  }
  return address;
}

function resolveForwarded(
  peer: string,
  realIpHeader: string,
  trustedProxies: readonly string[],
): string {
  if (isTrustedProxy(peer, trustedProxies)) {
    const forwarded = parseIp(realIpHeader.trim());
    if (forwarded !== undefined) return formatIp(forwarded);
  }
  return canonicalPeer(peer);
}

/** Failure limits for one gateway. */
export class AuthThrottle {
  readonly #config: BruteForceConfig;
  readonly #trusted: readonly Cidr[];
  readonly #pairs: FailureTable;
  readonly #addresses: FailureTable;
  readonly #usernames: FailureTable;
  readonly #keyer = createCredentialKeyer();
  readonly #now: () => number;
  readonly #counted: Record<ThrottleReason, CounterSeries>;

  /** Creates the limits; `metrics` gets `authotron_auth_throttled_total{reason}`. */
  constructor(config: BruteForceConfig, metrics: GatewayMetrics, options: ThrottleOptions = {}) {
    this.#config = config;
    this.#trusted = ranges(config.trustedNetworks);
    const maxKeys = options.maxKeys ?? MAX_THROTTLE_KEYS;
    this.#pairs = new FailureTable(maxKeys);
    this.#addresses = new FailureTable(maxKeys);
    this.#usernames = new FailureTable(maxKeys);
    this.#now = options.now ?? (() => performance.now());
    const family = metrics.counter(
      "authotron_auth_throttled_total",
      "Requests refused by the brute-force limits without running providers, by limit",
      ["reason"],
    );
    this.#counted = {
      address: family.series({ reason: "address" }),
      pair: family.series({ reason: "pair" }),
      username: family.series({ reason: "username" }),
    };
  }

  /** Keys held per table (for tests and `/status`). */
  get sizes(): { pairs: number; addresses: number; usernames: number } {
    return {
      pairs: this.#pairs.size,
      addresses: this.#addresses.size,
      usernames: this.#usernames.size,
    };
  }

  /** Decides whether a request may run; `address` is the resolved client address. */
  check(address: string | undefined, authorization: string | undefined): ThrottleCheck {
    // No failure on record anywhere (the usual case): nothing can be blocked, and the keys
    // (an IP parse, a second Basic decode, an HMAC) are only derived if this attempt fails.
    if (this.#addresses.size === 0 && this.#pairs.size === 0 && this.#usernames.size === 0) {
      let keys: ThrottleKeys | undefined | null = null;
      const derive = () => keys === null ? keys = this.#keys(address, authorization) : keys;
      return {
        blocked: false,
        get keys() {
          return derive();
        },
      };
    }
    const keys = this.#keys(address, authorization);
    if (keys === undefined) return { blocked: false, keys };
    const now = this.#now();
    const blocks: [ThrottleReason, number][] = [
      ["address", this.#addresses.blockedFor(keys.address, now)],
      ["pair", keys.user === undefined ? 0 : this.#pairs.blockedFor(this.#pair(keys), now)],
      ["username", keys.user === undefined ? 0 : this.#usernames.blockedFor(keys.user, now)],
    ];
    const block = blocks.find(([, ms]) => ms > 0);
    if (block === undefined) return { blocked: false, keys };
    this.#counted[block[0]].inc();
    return { blocked: true, reason: block[0], retryAfterS: Math.ceil(block[1] / 1000) };
  }

  /**
   * Settles one request that ran (docs/security.md "What counts"): a rejected
   * Basic credential always counts, whatever the other credentials in the
   * header did (a Bearer's 200 or 503 cannot hide a wrong password); a request
   * that failed for a client-caused reason (`requestFailed`: every credential
   * rejected, or a malformed header) counts once; only an accepted Basic
   * credential clears its own pair. `gate` is this request's {@link check}:
   * its keys are read only when something is counted or cleared.
   */
  settle(
    gate: { readonly keys?: ThrottleKeys } | undefined,
    requestFailed: boolean,
    basic: BasicVerdict,
  ): void {
    if (basic === "rejected" || requestFailed) this.failed(gate?.keys);
    // With no pair on record (the usual case) a success has nothing to clear: the
    // keys (an IP parse, a second Basic decode, an HMAC) are not even derived.
    else if (basic === "accepted" && this.#pairs.size > 0) this.succeeded(gate?.keys);
  }

  /** Counts a failed attempt (a rejected or malformed credential). */
  failed(keys: ThrottleKeys | undefined): void {
    if (keys === undefined) return;
    const { maxFailures, maxFailuresPerAddress, maxFailuresPerUsername } = this.#config;
    const now = this.#now();
    const windowMs = this.#config.windowS * 1000;
    const blockMs = this.#config.blockS * 1000;
    this.#addresses.fail(keys.address, now, maxFailuresPerAddress, windowMs, blockMs);
    if (keys.user === undefined) return;
    this.#pairs.fail(this.#pair(keys), now, maxFailures, windowMs, blockMs);
    if (maxFailuresPerUsername > 0) {
      this.#usernames.fail(keys.user, now, maxFailuresPerUsername, windowMs, blockMs);
    }
  }

  /** An accepted Basic credential forgets its address+username pair's failures (not the address's). */
  succeeded(keys: ThrottleKeys | undefined): void {
    if (keys?.user !== undefined) this.#pairs.clear(this.#pair(keys));
  }

  #pair(keys: ThrottleKeys): string {
    return `${keys.address} ${keys.user}`;
  }

  #keys(address: string | undefined, authorization: string | undefined): ThrottleKeys | undefined {
    // No address (a unix socket, or a handler called in-process): nothing to count under.
    if (!this.#config.enabled || address === undefined) return undefined;
    const bytes = parseIp(address);
    if (bytes !== undefined && this.#trusted.some((r) => cidrContains(r, bytes))) return undefined;
    const parsed = parseAuthorization(authorization);
    const basic = parsed.ok ? parsed.credentials.get("Basic") : undefined;
    const username = basic === undefined ? undefined : decodeBasicCredential(basic)?.username;
    return {
      address,
      user: username === undefined ? undefined : this.#keyer(username),
    };
  }
}
