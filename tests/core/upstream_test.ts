import assert from "node:assert/strict";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { createUpstreamHttp } from "../../packages/plugin/_host/upstream.ts";

const http = createUpstreamHttp();

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (base: string, seen: Request[]) => Promise<void>,
) {
  const seen: Request[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(req);
    return handler(req);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof UpstreamUnavailableError, `expected a failure, got ${error}`);
  return error.kind;
}

const signal = () => AbortSignal.timeout(2000);

Deno.test("upstream: JSON answers, query encoding, form and Basic auth", async () => {
  await withServer(async (req) => {
    const url = new URL(req.url);
    return Response.json({
      token: url.searchParams.get("token"),
      body: await req.text(),
      auth: req.headers.get("authorization"),
      type: req.headers.get("content-type"),
    });
  }, async (base) => {
    const res = await http.request(`${base}/who-am-i`, {
      method: "POST",
      query: { token: "a&b c#d" },
      form: { token: "x=y" },
      basicAuth: { username: "id", password: "sécret" },
      signal: signal(),
    });
    assert.equal(res.status, 200);
    const body = res.json() as Record<string, string>;
    assert.equal(body.token, "a&b c#d");
    assert.equal(body.body, "token=x%3Dy");
    assert.equal(body.type, "application/x-www-form-urlencoded");
    assert.equal(body.auth, "Basic " + btoa("id:s\u00c3\u00a9cret"));
  });
});

Deno.test("upstream: 4xx is an answer; 5xx, 429 and redirects are failures", async () => {
  await withServer((req) => {
    const status = Number(new URL(req.url).pathname.slice(1));
    return new Response("{}", { status, headers: status === 302 ? { location: "/200" } : {} });
  }, async (base) => {
    assert.equal((await http.request(`${base}/403`, { signal: signal() })).status, 403);
    assert.equal(await kindOf(http.request(`${base}/500`, { signal: signal() })), "5xx");
    assert.equal(await kindOf(http.request(`${base}/503`, { signal: signal() })), "5xx");
    assert.equal(await kindOf(http.request(`${base}/429`, { signal: signal() })), "429");
    assert.equal(await kindOf(http.request(`${base}/302`, { signal: signal() })), "redirect");
  });
});

Deno.test("upstream: oversized and non-JSON bodies are failures", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/big"
        ? new Response("x".repeat(2 * 1024 * 1024))
        : new Response("<html>oops</html>"),
    async (base) => {
      assert.equal(await kindOf(http.request(`${base}/big`, { signal: signal() })), "too_large");
      const res = await http.request(`${base}/html`, { signal: signal() });
      assert.throws(() => res.json(), (e) => e instanceof UpstreamUnavailableError);
    },
  );
});

Deno.test("upstream: a hanging server times out through the signal; refused is a failure", async () => {
  const hang = (req: Request) =>
    new Promise<Response>((resolve) =>
      req.signal.addEventListener("abort", () => resolve(new Response(null)))
    );
  await withServer(hang, async (base) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 100);
    assert.equal(await kindOf(http.request(base, { signal: controller.signal })), "timeout");
    clearTimeout(timer);
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  assert.equal(
    await kindOf(http.request(`http://127.0.0.1:${port}/`, { signal: signal() })),
    "refused",
  );
});
