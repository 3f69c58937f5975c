/**
 * A real HTTP server on 127.0.0.1:0 standing in for an identity service
 * (ECMWF API, EFAS, Keycloak, the ECMWF token generator) in provider tests.
 * It records every request (method, path, raw query, headers, body) and can
 * misbehave on demand: status codes, hangs, slow drips, huge bodies, invalid
 * JSON and redirects ({@link faults}).
 *
 * @module
 */

/** One request as the upstream saw it. */
export interface RecordedRequest {
  /** HTTP method. */
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** The raw query string, `?` included (empty when none). */
  readonly rawQuery: string;
  /** Decoded query parameters. */
  readonly query: URLSearchParams;
  /** Request headers. */
  readonly headers: Headers;
  /** The body as text. */
  readonly body: string;
  /** Aborted when the client goes away or the upstream stops. */
  readonly signal: AbortSignal;
}

/** Answers one recorded request. */
export type Handler = (req: RecordedRequest) => Response | Promise<Response>;

/** A running fake identity service. */
export interface IdentityUpstream extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests whose path is `path`. */
  hits(path: string): RecordedRequest[];
}

/** `status` with `body` serialised as JSON. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Misbehaviours used by the failure-mode tests. */
export const faults = {
  /** An empty answer with `status`. */
  status(status: number): Response {
    return new Response(null, { status });
  },
  /** Never answers until the client gives up (or the upstream stops). */
  async hang(req: RecordedRequest): Promise<Response> {
    await waitForAbort(req.signal);
    return new Response(null, { status: 504 });
  },
  /** Sends 200 headers at once, then one byte of a JSON body every 100 ms, forever. */
  drip(req: RecordedRequest): Response {
    let timer: ReturnType<typeof setInterval> | undefined;
    const stop = () => clearInterval(timer);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"uid":"'));
        timer = setInterval(() => {
          try {
            controller.enqueue(new TextEncoder().encode("a"));
          } catch {
            stop();
          }
        }, 100);
        req.signal.addEventListener("abort", () => {
          stop();
          try {
            controller.close();
          } catch { /* already closed */ }
        }, { once: true });
      },
      cancel: stop,
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
  /** A valid JSON object of about 2 MiB (above the 1 MiB cap). */
  huge(fields: Record<string, unknown>): Response {
    return json({ ...fields, padding: "x".repeat(2 * 1024 * 1024) });
  },
  /** 200 with a body that is not JSON. */
  invalidJson(): Response {
    return new Response("<html>not json</html>", { headers: { "content-type": "text/html" } });
  },
  /** 302 to `location`. */
  redirect(location: string): Response {
    return new Response(null, { status: 302, headers: { location } });
  },
};

/** The failure modes every remote provider is tested against (each must give 503). */
export const FAULT_MODES = [
  "e500",
  "e429",
  "hang",
  "drip",
  "huge",
  "bad-json",
  "redirect",
] as const;

/** One of {@link FAULT_MODES}. */
export type FaultMode = typeof FAULT_MODES[number];

/** Whether `name` is one of {@link FAULT_MODES}. */
export function isFaultMode(name: string): name is FaultMode {
  return (FAULT_MODES as readonly string[]).includes(name);
}

/** Answers `req` with fault `mode`; `huge` carries `fields`, `redirect` points to `location`. */
export function fault(
  mode: FaultMode,
  req: RecordedRequest,
  fields: Record<string, unknown> = {},
  location = "/",
): Response | Promise<Response> {
  switch (mode) {
    case "e500":
      return faults.status(500);
    case "e429":
      return faults.status(429);
    case "hang":
      return faults.hang(req);
    case "drip":
      return faults.drip(req);
    case "huge":
      return faults.huge(fields);
    case "bad-json":
      return faults.invalidJson();
    case "redirect":
      return faults.redirect(location);
  }
}

/** Starts the upstream; `handler` answers every request. */
export function startIdentityUpstream(handler: Handler): IdentityUpstream {
  const requests: RecordedRequest[] = [];
  const stopping = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      let signal: AbortSignal | undefined;
      const recorded: RecordedRequest = {
        method: request.method,
        path: url.pathname,
        rawQuery: url.search,
        query: url.searchParams,
        headers: request.headers,
        body: await request.text(),
        // Only the hanging and dripping answers watch for the client going away.
        get signal() {
          return signal ??= AbortSignal.any([request.signal, stopping.signal]);
        },
      };
      requests.push(recorded);
      return await handler(recorded);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    hits: (path) => requests.filter((r) => r.path === path),
    async [Symbol.asyncDispose]() {
      stopping.abort();
      await server.shutdown();
    },
  };
}
