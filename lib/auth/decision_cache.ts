/**
 * The decision cache: a successful authentication, and the JWT issued for
 * it, reused for a short time (`auth.decision_cache_ttl_ms`, default 1 s) by
 * requests carrying the same `Authorization` and `X-Auth-Realm`. Signing is
 * the gateway's main cost, so this is what brings it near the runtime's limit.
 *
 * - Keys are an HMAC of the two headers under a per-process random secret
 *   (packages/plugin/_host/credential_key.ts), never the raw credential.
 * - Only clean successes are stored: never failures, upstream outages, or a
 *   success where an `on_error: skip` augmenter failed (`degraded`).
 * - Bounded: beyond `maxEntries` the oldest decisions go first. Every entry
 *   lives for the same TTL, so insertion order is expiry order; a hit does not
 *   reorder the map (a `Map` delete and re-insert per hit shrinks and regrows
 *   V8's hash table, which cost more than the rest of a cached request).
 * - A decision never outlives its credential: an `exp` attribute (a JWT's
 *   `exp` claim) ends it early, and a credential already past it is not stored.
 * - An issued JWT is reused only during the first quarter of its lifetime
 *   and never when `jwt.include_jti` asks for a unique `jti` per token.
 * - {@link DecisionCache.invalidateAll} and {@link DecisionCache.invalidateUser}
 *   drop entries at once (e.g. when a store token is deleted); a decision
 *   being computed while an invalidation happens is not stored.
 *
 * It wraps the pipeline and the {@link TokenIssuer}, so neither changes.
 *
 * @module
 */

import { createCredentialKeyer } from "../../packages/plugin/_host/credential_key.ts";
import { registerDecisionMetrics } from "./decision_support.ts";
import { expAttribute, type TokenIssuer } from "../jwt/issuer.ts";
import type { Logger } from "../observability/log.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { AuthOutcome, AuthPipeline } from "./pipeline.ts";
import type { ResolvedUser } from "../plugin.ts";

/** Default bound on cached decisions. */
export const DEFAULT_DECISION_ENTRIES = 10_000;

/** What the routes call to authenticate (the pipeline, or the cache in front of it). */
export type Authenticator = Pick<AuthPipeline, "authenticate">;

/** Reuses a response built for a cached decision and its token. */
export interface ResponseReuse {
  /**
   * A copy of the response `build` made for this `user` and `token` (built
   * now when there is none, or when the user is not from a cached decision).
   * `head`: the answer to a `HEAD`, kept apart (built without a body).
   */
  respond(user: ResolvedUser, token: string, build: () => Response, head?: boolean): Response;
  /**
   * Synchronously, the reusable `/authenticate` response of a cached decision
   * for these headers, or `undefined` (then authenticate as usual, at once:
   * the key computed here is handed on to that call). `address` is the
   * client's, as the pipeline gets it. The header values may be raw: only
   * values that passed `readAsciiHeader()` are ever stored, so a value that
   * would fail it cannot hit. `started` is the request's `performance.now()`
   * when the caller already read it (one clock reading less). `head`: the
   * bodiless answer to a `HEAD` (what NGINX and Caddy send).
   */
  cachedResponse(
    authorization: string | undefined,
    realm: string | undefined,
    address?: string,
    started?: number,
    head?: boolean,
  ): Response | undefined;
}

/** Settings of a {@link DecisionCache}. */
export interface DecisionCacheOptions {
  /** How long a decision is reused, in ms; 0 disables the cache. */
  readonly ttlMs: number;
  /** At most this many decisions (default {@link DEFAULT_DECISION_ENTRIES}). */
  readonly maxEntries?: number;
  /** Reuse issued JWTs (false when each token must be unique, e.g. with a `jti`). */
  readonly reuseTokens: boolean;
  /** Counts hits as authentications, as the pipeline does for misses. */
  readonly metrics?: GatewayMetrics;
  /** The `auth` logger: hits are logged like fresh authentications, with `cached=true`. */
  readonly log?: Logger;
  /**
   * Providers whose decisions are never cached, e.g. the token store when it
   * is shared by replicas (a token deleted on one must fail on all at once).
   */
  readonly uncachedProviders?: ReadonlySet<string>;
  /** Clock in epoch ms (tests inject one; default: the monotonic clock from `performance.timeOrigin`). */
  readonly now?: () => number;
}

type Success = Extract<AuthOutcome, { ok: true }>;

interface Decision {
  readonly key: string;
  readonly outcome: Success;
  readonly expires: number;
  token?: string | Promise<string>;
  /** The JWT once signed (set with `reuseUntil`). */
  tokenValue?: string;
  reuseUntil?: number;
  response?: Reusable;
  /** The same for `HEAD`: no body, so nothing to cancel when it is sent. */
  headResponse?: Reusable;
}

/** The key and lookup of a missed {@link DecisionCache.cachedResponse}, handed on. */
interface Handoff {
  readonly authorization: string;
  readonly realm?: string;
  readonly address?: string;
  readonly key: string;
  /** The live decision found (a hit for authenticate(), only without a reusable response). */
  readonly decision: Decision | undefined;
}

/** A prebuilt response for one token, sent as clones. */
interface Reusable {
  readonly token: string;
  readonly template: Response;
}

/** When the credential behind `user` stops being valid, in epoch ms: its `exp` attribute, or never. */
function credentialExpiry(user: ResolvedUser): number {
  const exp = expAttribute(user);
  return exp === undefined ? Infinity : exp * 1000;
}

/** Epoch milliseconds from the monotonic clock (the one that times requests). */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Short-lived, bounded reuse of successful decisions and their issued JWTs. */
export class DecisionCache implements ResponseReuse {
  readonly #entries = new Map<string, Decision>();
  readonly #byUser = new WeakMap<ResolvedUser, Decision>();
  readonly #key = createCredentialKeyer();
  readonly #options: DecisionCacheOptions;
  readonly #now: () => number;
  readonly #maxEntries: number;
  #generation = 0;
  // What a missed cachedResponse() computed (the key, and the decision it found, if any) for
  // the authenticate() that follows at once.
  #handoff: Handoff | undefined;
  /** Hits and misses so far. */
  readonly stats = { hits: 0, misses: 0 };

  /** Creates an empty cache. */
  constructor(options: DecisionCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? epochNow;
    this.#maxEntries = options.maxEntries ?? DEFAULT_DECISION_ENTRIES;
    if (options.metrics && this.enabled) {
      registerDecisionMetrics(options.metrics, this.stats, () => this.#entries.size);
    }
  }

  /** False when the TTL is 0: the wrappers then return what they wrap. */
  get enabled(): boolean {
    return this.#options.ttlMs > 0;
  }

  /** Decisions held (expired ones count until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every decision at once. */
  invalidateAll(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** Forgets the decisions for one user (`username` and `realm` exact); returns how many. */
  invalidateUser(username: string, realm: string): number {
    this.#generation++;
    let dropped = 0;
    for (const [key, decision] of this.#entries) {
      const { user } = decision.outcome;
      if (user.username === username && user.realm === realm) {
        this.#entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** The pipeline with the cache in front of it. */
  wrapAuthenticator(inner: Authenticator): Authenticator {
    if (!this.enabled) return inner;
    return {
      authenticate: (authorization, realm, clientIp) =>
        this.#authenticate(inner, authorization, realm, clientIp),
    };
  }

  /** The issuer, reusing the JWT of a cached decision while it is young. */
  wrapIssuer(inner: TokenIssuer): TokenIssuer {
    if (!this.enabled || !this.#options.reuseTokens) return inner;
    return {
      alg: inner.alg,
      kid: inner.kid,
      expiry: (user, now) => inner.expiry(user, now),
      issue: (user, now) => {
        const decision = now === undefined ? this.#byUser.get(user) : undefined;
        if (decision === undefined) return inner.issue(user, now);
        const time = this.#now();
        if (decision.token !== undefined && (decision.reuseUntil ?? Infinity) > time) {
          return decision.token;
        }
        // The issuer's own default `now`, read once: the token's `exp` is then known
        // without decoding the token.
        const wall = Date.now();
        const issuedAt = Math.floor(wall / 1000);
        const token = inner.issue(user, issuedAt);
        decision.token = token;
        decision.tokenValue = undefined;
        decision.reuseUntil = undefined;
        const issued = (jwt: string) => {
          if (decision.token === token) decision.tokenValue = jwt;
          // What is left of the token's lifetime (on the issuer's wall clock), counted on the
          // cache's clock from now.
          const lifetime = inner.expiry(user, issuedAt) * 1000 - wall;
          // Reused for at most the first quarter of its lifetime, and never past the entry.
          decision.reuseUntil = lifetime > 0 ? Math.min(decision.expires, time + lifetime / 4) : 0;
        };
        if (typeof token === "string") issued(token);
        else {
          token.then(issued, () => {
            if (decision.token === token) decision.token = undefined;
          });
        }
        return token;
      },
    };
  }

  /**
   * Building a `Response` validates every header byte (a JWT is hundreds);
   * a clone of a template copies the validated list. The template itself is
   * never sent, so its body is never consumed.
   */
  respond(user: ResolvedUser, token: string, build: () => Response, head = false): Response {
    const decision = this.enabled && this.#options.reuseTokens ? this.#byUser.get(user) : undefined;
    if (decision === undefined) return build();
    let reusable = head ? decision.headResponse : decision.response;
    if (reusable?.token !== token) {
      reusable = { token, template: build() };
      if (head) decision.headResponse = reusable;
      else decision.response = reusable;
    }
    return reusable.template.clone();
  }

  cachedResponse(
    authorization: string | undefined,
    realm: string | undefined,
    address?: string,
    started: number = performance.now(),
    head = false,
  ): Response | undefined {
    this.#handoff = undefined;
    if (!this.enabled || !this.#options.reuseTokens || authorization === undefined) {
      return undefined;
    }
    const key = this.#keyOf(authorization, realm, address);
    const now = this.#clockAt(started);
    const decision = this.#lookup(key, now);
    const response = head ? decision?.headResponse : decision?.response;
    if (
      response === undefined || decision!.tokenValue !== response.token ||
      !((decision!.reuseUntil ?? 0) > now)
    ) {
      this.#handoff = { authorization, realm, address, key, decision };
      return undefined;
    }
    this.stats.hits++;
    this.#recordHit(decision!.outcome, started);
    return response.template.clone();
  }

  /**
   * The key of (client address, X-Auth-Realm, Authorization). The address is
   * part of it so that a client blocked by the brute-force limits is refused
   * even when another client's request for the same credential was cached.
   */
  #keyOf(authorization: string, realm: string | undefined, address: string | undefined): string {
    // Only the credential is hashed (the header's own string: no concatenated
    // copy to flatten, and a Basic credential fits one SHA-256 block). The
    // HMAC has a fixed length and headers and addresses hold no "\n", so the
    // key is unambiguous; the "-"/"+" tells an absent X-Auth-Realm from an empty one.
    const scope = realm === undefined ? "-" : `+${realm}`;
    return `${this.#key(authorization)}\n${address ?? ""}\n${scope}`;
  }

  /** A hit at once; a miss asks `inner` and stores a clean success (synchronously if `inner` is). */
  #authenticate(
    inner: Authenticator,
    authorization: string | undefined,
    realm: string | undefined,
    clientIp: string | undefined,
  ): AuthOutcome | Promise<AuthOutcome> {
    if (authorization === undefined) return inner.authenticate(authorization, realm, clientIp);
    const started = performance.now();
    const handoff = this.#handoff;
    this.#handoff = undefined;
    let key: string;
    let hit: Decision | undefined;
    if (
      handoff?.authorization === authorization && handoff.realm === realm &&
      handoff.address === clientIp
    ) {
      // Looked up a moment ago, in this same synchronous request: no second HMAC or lookup.
      ({ key, decision: hit } = handoff);
    } else {
      key = this.#keyOf(authorization, realm, clientIp);
      hit = this.#lookup(key, this.#clockAt(started));
    }
    if (hit !== undefined) {
      this.stats.hits++;
      this.#recordHit(hit.outcome, started);
      return hit.outcome;
    }
    this.stats.misses++;
    const generation = this.#generation;
    const decided = (outcome: AuthOutcome) => {
      if (
        outcome.ok && outcome.degraded !== true && generation === this.#generation &&
        !this.#options.uncachedProviders?.has(outcome.provider)
      ) {
        this.#store(key, outcome);
      }
      return outcome;
    };
    const outcome = inner.authenticate(authorization, realm, clientIp);
    return outcome instanceof Promise ? outcome.then(decided) : decided(outcome);
  }

  /**
   * The cache's clock at the monotonic reading `started` (one reading times a
   * request and checks freshness; a clock read costs ~0.1 µs here).
   */
  #clockAt(started: number): number {
    return this.#options.now?.() ?? performance.timeOrigin + started;
  }

  #lookup(key: string, now: number): Decision | undefined {
    const decision = this.#entries.get(key);
    if (decision === undefined) return undefined;
    if (decision.expires > now) return decision;
    this.#entries.delete(key);
    return undefined;
  }

  #store(key: string, outcome: Success): void {
    const now = this.#now();
    const expires = Math.min(now + this.#options.ttlMs, credentialExpiry(outcome.user));
    // A credential past its own `exp` (accepted inside a provider's leeway) is decided every time.
    if (expires <= now) return;
    const decision: Decision = { key, outcome, expires };
    this.#entries.delete(key);
    this.#entries.set(key, decision);
    this.#byUser.set(outcome.user, decision);
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  #recordHit(outcome: Success, started: number): void {
    const { metrics, log } = this.#options;
    const { user } = outcome;
    metrics?.recordAuth("success", user.realm, (performance.now() - started) / 1000);
    if (log?.enabled("info")) {
      log.info("auth.request.authenticated", "request authenticated", {
        username: user.username,
        realm: user.realm,
        provider: outcome.provider,
        roles_count: user.roles.length,
        roles: user.roles.join(","),
        cached: true,
      });
    }
  }
}
