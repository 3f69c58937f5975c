/**
 * `GET /explain` (metrics listener only) and `main.ts --explain`: runs the
 * real pipeline on the headers `/authenticate` takes — without the decision
 * cache and without signing a token — and answers what each provider and
 * augmenter did, the resolved user and the claims that would be signed.
 * Failures count toward the brute-force limits exactly as `/authenticate`'s
 * do, so it cannot be used to guess passwords faster.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import { readAsciiHeader } from "../auth/credentials.ts";
import { type Explanation, newExplanation } from "../auth/explanation.ts";
import type { AuthPipeline } from "../auth/pipeline.ts";
import { userToJson } from "../../packages/plugin/_host/user.ts";
import { claimsFor } from "../jwt/issuer.ts";
import { clientAddress } from "./app_routes.ts";
import type { Route, RouteContext } from "./router.ts";

/** What `/explain` needs. */
export interface ExplainDeps {
  /** The config serving (for the failure status and the JWT claims). */
  readonly config: Config;
  /** The pipeline itself, not wrapped by the decision cache. */
  readonly pipeline: AuthPipeline;
}

/** The `/explain` answer. */
export interface ExplainReport extends Explanation {
  /** What `/authenticate` would answer: 200, 401 or 503. */
  readonly status: 200 | 401 | 503;
  /** `success`, or why it failed (`all_failed`, `upstream_unavailable`, `throttled`, …). */
  readonly outcome: string;
  /** The `X-Auth-Realm` value, or `null`. */
  readonly realm_filter: string | null;
  /** The resolved user on success, else `null`. */
  readonly user: Record<string, unknown> | null;
  /** The claims that would be signed on success (no signature), else `null`. */
  readonly claims: Record<string, unknown> | null;
}

/** Explains the decision for these header values and client address. */
export async function explainDecision(
  deps: ExplainDeps,
  authorization: string | undefined,
  realm: string | undefined,
  address: string | undefined,
): Promise<ExplainReport> {
  const explanation = newExplanation();
  const outcome = await deps.pipeline.authenticate(authorization, realm, address, explanation);
  const common = { ...explanation, realm_filter: realm ?? null };
  if (outcome.ok) {
    return {
      status: 200,
      outcome: "success",
      ...common,
      user: JSON.parse(userToJson(outcome.user)),
      claims: claimsFor(outcome.user, deps.config.jwt, Math.floor(Date.now() / 1000)),
    };
  }
  const unavailable = outcome.reason === "upstream_unavailable" &&
    deps.config.auth.upstreamFailureStatus === 503;
  return {
    status: unavailable ? 503 : 401,
    outcome: outcome.reason,
    ...common,
    user: null,
    claims: null,
  };
}

/** The `GET /explain` route (for the metrics listener). */
export function explainRoute(deps: ExplainDeps): Route {
  return {
    pattern: "/explain",
    methods: {
      GET: async (req: Request, ctx: RouteContext) => {
        const report = await explainDecision(
          deps,
          readAsciiHeader(req.headers, "authorization"),
          readAsciiHeader(req.headers, "x-auth-realm"),
          clientAddress(req, deps.config, ctx),
        );
        return new Response(JSON.stringify(report), {
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
      },
    },
  };
}
