/**
 * The table shape of the secret-leak test (`secret_leak_test.ts`) and small
 * helpers the case modules share: every textual form a secret can take when
 * it travels (Basic headers, URL encoding, PEM lines, JWK members).
 *
 * @module
 */

import { basicAuth, type TestGateway } from "../support/gateway.ts";

/** One `/authenticate` request of a scenario and the status it must get. */
export interface Step {
  /** The Authorization header value. */
  readonly authorization: string;
  /** `X-Auth-Realm`, when the request targets one realm. */
  readonly realm?: string;
  /** The status the gateway must answer. */
  readonly status: number;
}

/** A prepared scenario: config sections, traffic, and every secret in play. */
export interface Scenario extends AsyncDisposable {
  /** YAML list items of `providers:` (indented by two). */
  readonly providers: string;
  /** `/authenticate` traffic, run first. */
  readonly steps: readonly Step[];
  /** Secrets that must never show (the step headers are added by the driver). */
  readonly secrets: readonly string[];
  /** The whole `jwt:` section (default: HS256 with the driver's secret). */
  readonly jwt?: string;
  /** The `store:` value (default `{ enabled: false }`). */
  readonly store?: string;
  /** Extra YAML list items of `augmenters:`. */
  readonly augmenters?: string;
  /** More traffic after the steps; pushes every secret it learns onto `secrets`. */
  drive?(gw: TestGateway, secrets: string[]): Promise<void>;
}

/** One table entry. */
export interface LeakCase {
  /** Test name part. */
  readonly name: string;
  /** Built-in plugin types it exercises (`providers/`, `augmenters/`, `token-store`). */
  readonly covers?: readonly string[];
  /** Server binaries it needs (run through `systemTest`). */
  readonly needs?: readonly string[];
  /** Starts the upstreams and describes the scenario. */
  setup(): Promise<Scenario>;
}

/** An async no-op, for scenarios with nothing to dispose. */
export const noop = (): Promise<void> => Promise.resolve();

/** Every Basic secret that travels: the password, base64 text and header value. */
export function basicSecrets(userPass: string): string[] {
  const header = basicAuth(userPass);
  return [userPass.slice(userPass.indexOf(":") + 1), header, header.slice("Basic ".length)];
}

/** A token and its URL-encoded form (as a `?token=` query would carry it). */
export function urlSecrets(token: string): string[] {
  return [token, encodeURIComponent(token), new URLSearchParams({ token }).toString()];
}

/** The base64 body lines of a PEM text (any one of them leaking is a leak). */
export function pemLines(pem: string): string[] {
  return pem.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("-----"));
}

/** The private members of a JWK (`d`, `p`, `q`, … and `k` for HMAC). */
export function privateJwkMembers(jwk: Record<string, unknown>): string[] {
  return ["d", "p", "q", "dp", "dq", "qi", "k"].flatMap((m) =>
    typeof jwk[m] === "string" ? [jwk[m] as string] : []
  );
}
