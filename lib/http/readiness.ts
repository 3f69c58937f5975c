/**
 * Readiness (`GET /ready` on both listeners): ready once the gateway is
 * assembled (config loaded, plugins created) and every registered check
 * passes; not ready from the moment shutdown starts, so a load balancer
 * stops sending traffic while in-flight requests drain.
 *
 * Checks are for dependencies a restart could fix. Identity providers, LDAP
 * and the token store are deliberately not checks: an outage of a shared
 * dependency would take every replica out of rotation at once while other
 * credentials are still served; their outages show in metrics, logs and
 * `/status`. A check must answer from memory: each gets at most
 * {@link READINESS_TIMEOUT_MS}, so `/ready` always answers within 100 ms.
 *
 * @module
 */

/** A readiness check: resolves `true` when the dependency is usable. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<boolean> | boolean;

/** The outcome of one readiness evaluation. */
export interface ReadinessReport {
  /** Overall verdict. */
  readonly ready: boolean;
  /** `true` once shutdown started. */
  readonly shuttingDown: boolean;
  /** Each check's verdict by name (a throw or timeout counts as `false`). */
  readonly checks: Readonly<Record<string, boolean>>;
}

/** Default bound of one readiness check (checks run concurrently). */
export const READINESS_TIMEOUT_MS = 50;

/** The readiness state of one gateway. */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #timeoutMs: number;
  #shuttingDown = false;

  /** Creates the state; each check gets at most `timeoutMs`. */
  constructor(timeoutMs: number = READINESS_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** Registers (or replaces) the check `name`, e.g. `store`. */
  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** Marks the gateway as shutting down: not ready from now on. */
  startShutdown(): void {
    this.#shuttingDown = true;
  }

  /** True once {@link startShutdown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Runs every check concurrently, each under the timeout. */
  async evaluate(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await this.#run(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ready = !this.#shuttingDown && entries.every(([, ok]) => ok);
    return { ready, shuttingDown: this.#shuttingDown, checks };
  }

  async #run(check: ReadinessCheck): Promise<boolean> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new DOMException("readiness check timed out", "TimeoutError"));
        resolve(false);
      }, this.#timeoutMs);
    });
    // A check that rejects (even after its timeout) counts as false, never as unhandled.
    const result = Promise.resolve()
      .then(() => check(controller.signal))
      .then((ok) => ok === true, () => false);
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const encoder = new TextEncoder();

/** `GET /ready`: 200 or 503 with the report as JSON, never cached. */
export async function readinessResponse(readiness: Readiness): Promise<Response> {
  const report = await readiness.evaluate();
  const body = { ready: report.ready, shutting_down: report.shuttingDown, checks: report.checks };
  return new Response(encoder.encode(JSON.stringify(body)), {
    status: report.ready ? 200 : 503,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
