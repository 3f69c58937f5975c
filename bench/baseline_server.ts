/**
 * The reference servers, one per process; each prints its port on stdout.
 *
 * - `bare` (the baseline): a bare `Deno.serve` answering 200 with a fixed
 *   header and body, the runtime's limit on this machine.
 * - `floor`: what any gateway in this runtime must do at least: read the
 *   request's `Authorization`, `X-Auth-Realm` and `X-Real-IP` and the peer
 *   address, and answer 200 with a prebuilt response whose `Authorization`
 *   carries a JWT-sized token (sent as a clone, as the gateway sends a cached
 *   decision). It decides nothing: the ceiling a gateway's ratio can reach.
 *
 * @module
 */

const BODY = new TextEncoder().encode("Authenticated successfully");
const SHORT = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.baseline.signature";
// 368 characters, as long as the value carrying the HS256 token the gateway
// issues to the benchmark's user.
const JWT_SIZED = `Bearer ${"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.".repeat(10).slice(0, 361)}`;
const prebuilt = new Response(BODY, { headers: { authorization: JWT_SIZED } });

const handlers: Record<string, Deno.ServeHandler> = {
  bare: () => new Response(BODY, { headers: { authorization: SHORT } }),
  floor: (req, info) => {
    const read = [
      req.headers.get("authorization"),
      req.headers.get("x-auth-realm"),
      req.headers.get("x-real-ip"),
      (info.remoteAddr as Deno.NetAddr).hostname,
    ];
    return read[0] === null ? new Response(null, { status: 401 }) : prebuilt.clone();
  },
};

const mode = Deno.args[0] ?? "bare";
const handler = handlers[mode];
if (handler === undefined) throw new Error(`unknown reference server ${mode}`);
const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => {
      Deno.stdout.writeSync(new TextEncoder().encode(`${port}\n`));
    },
  },
  handler,
);
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
