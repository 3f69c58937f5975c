/**
 * The baseline: a bare `Deno.serve` answering 200 with a fixed header and
 * body, the runtime's limit on this machine. Prints its port on stdout.
 *
 * @module
 */

const HEADER = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.baseline.signature";
const BODY = new TextEncoder().encode("Authenticated successfully");

const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => {
      Deno.stdout.writeSync(new TextEncoder().encode(`${port}\n`));
    },
  },
  () => new Response(BODY, { headers: { authorization: HEADER } }),
);
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
