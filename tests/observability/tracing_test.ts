// Runs main.ts with Deno's built-in OpenTelemetry exporting OTLP/HTTP JSON to
// a tiny sink, sends requests with a `traceparent`, and checks the gateway's
// spans: names, parentage under the ingress trace, attributes, and that no
// credential appears anywhere in the exported spans.
import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { FIXTURES, startUpstream } from "./helpers.ts";

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status?: { code?: number; message?: string };
}

const ROOT = new URL("../../", import.meta.url);
const JWT_SECRET = "trace-jwt-secret-4c3b2a190817263544";
const TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACE_B = "0af7651916cd43dd8448eb211c80319c";
const PARENT = "00f067aa0ba902b7";

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
}

/** Reads JSON log lines from the child until `startup.metrics.listening` names both ports. */
async function ports(lines: ReadableStreamDefaultReader<string>): Promise<[number, number]> {
  let app = 0;
  let buffer = "";
  while (true) {
    const { value, done } = await lines.read();
    if (done) throw new Error("gateway exited before listening");
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const event = JSON.parse(line);
      if (event.attributes["event.name"] === "startup.server.listening") {
        app = event.attributes.port;
      }
      if (event.attributes["event.name"] === "startup.metrics.listening") {
        return [app, event.attributes.port];
      }
    }
  }
}

Deno.test("tracing: OTLP spans per request, provider and augmenter continue the ingress traceparent", async () => {
  const received: string[] = [];
  const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (new URL(req.url).pathname === "/v1/traces") received.push(body);
    return Response.json({});
  });
  await using upstream = startUpstream({ "trace-bearer-token-6d5c": "dave" });
  const dir = await Deno.makeTempDir({ prefix: "aot-otel-" });
  try {
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: true, port: 0 }
store: { enabled: false }
services: []
jwt: { iss: authotron-test, exp: 3600, secret: ${JWT_SECRET} }
logging: { level: info, format: json }
providers:
  - type: plain
    name: local
    realm: default
    users: [{ username: erin, password: trace-password-8e7f6a, roles: [] }]
  - { module: ${FIXTURES}observable_bearer.ts, name: remote, realm: r, upstream: "${upstream.url}" }
augmenters:
  - { module: ${FIXTURES}test_augmenter.ts, name: extra, realm: default, roles: [x] }
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"],
      cwd: ROOT,
      env: {
        AOT_CONFIG_PATH: `${dir}/config.yaml`,
        OTEL_DENO: "true",
        OTEL_SERVICE_NAME: "authotron-test",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.addr.port}`,
      },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const secrets = [
      JWT_SECRET,
      "trace-password-8e7f6a",
      "wrong-trace-pw-1a2b",
      "trace-bearer-token-6d5c",
    ];
    try {
      const [appPort] = await ports(lines);
      const base = `http://127.0.0.1:${appPort}`;
      const send = async (authorization: string, traceId: string, realm?: string) => {
        const headers = new Headers({ authorization, traceparent: `00-${traceId}-${PARENT}-01` });
        if (realm) headers.set("x-auth-realm", realm);
        const res = await fetch(`${base}/authenticate`, { headers });
        await res.body?.cancel();
        secrets.push(authorization, authorization.split(" ")[1]);
        const issued = res.headers.get("authorization");
        if (issued) secrets.push(issued.slice("Bearer ".length));
        return res.status;
      };
      assert.equal(await send(basicAuth("erin:trace-password-8e7f6a"), TRACE_A), 200);
      assert.equal(await send("Bearer trace-bearer-token-6d5c", TRACE_B, "r"), 200);
      assert.equal(await send(basicAuth("erin:wrong-trace-pw-1a2b"), TRACE_A), 401);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await lines.cancel();
    }
    const deadline = Date.now() + 10_000;
    while (!received.some((b) => b.includes('"augmenter extra"')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const spans: OtlpSpan[] = received.flatMap((body) =>
      JSON.parse(body).resourceSpans.flatMap((rs: { scopeSpans: { spans: OtlpSpan[] }[] }) =>
        rs.scopeSpans.flatMap((ss) => ss.spans)
      )
    );
    // Known limitation (docs/operations.md): Deno's auto-instrumented fetch
    // CLIENT span records url.full/url.query, so a provider that sends the
    // credential in the query string (efas-api style, as this fixture does)
    // exposes it there. Everything else must be clean.
    const upstreamQuery = (s: OtlpSpan, a: OtlpAttribute) =>
      s.kind === 3 && (a.key === "url.full" || a.key === "url.query");
    const clean = spans.map((s) => ({
      ...s,
      attributes: s.attributes.filter((a) => !upstreamQuery(s, a)),
    }));
    const all = JSON.stringify(clean);
    for (const secret of secrets) assert.ok(!all.includes(secret), `a span contains ${secret}`);
    const leaked = spans.filter((s) => JSON.stringify(s).includes("trace-bearer-token-6d5c"));
    assert.ok(leaked.every((s) => s.kind === 3), "only Deno's fetch client span has the query");

    const named = (name: string, traceId: string) =>
      spans.filter((s) => s.name === name && s.traceId === traceId);
    // Request A: server span (Deno) ← authenticate ← provider local / augmenter extra
    const [server] = spans.filter((s) => s.traceId === TRACE_A && s.parentSpanId === PARENT);
    assert.ok(server, "Deno's server span continues the ingress traceparent");
    const authA = named("authenticate", TRACE_A);
    assert.equal(authA.length, 2);
    const okAuth = authA.find((s) => attrs(s)["authotron.outcome"] === "success")!;
    assert.ok(okAuth, "one successful authenticate span");
    assert.equal(attrs(okAuth)["authotron.realm"], "default");
    assert.ok(authA.some((s) => attrs(s)["authotron.outcome"] === "all_failed"));
    const providerLocal = named("provider local", TRACE_A)
      .find((s) => s.parentSpanId === okAuth.spanId)!;
    assert.deepEqual(attrs(providerLocal), {
      "authotron.provider.name": "local",
      "authotron.provider.type": "plain",
      "authotron.provider.scheme": "Basic",
      "authotron.provider.realm": "default",
      "authotron.outcome": "success",
    });
    const augmenter = named("augmenter extra", TRACE_A)[0];
    assert.equal(augmenter.parentSpanId, okAuth.spanId);
    assert.equal(attrs(augmenter)["authotron.outcome"], "success");
    assert.ok(
      named("provider local", TRACE_A).some((s) => attrs(s)["authotron.outcome"] === "rejected"),
    );
    // Request B: the provider's upstream fetch is a child of its provider span
    const remote = named("provider remote", TRACE_B)[0];
    assert.equal(attrs(remote)["authotron.outcome"], "success");
    const fetchSpan = spans.find((s) => s.traceId === TRACE_B && s.parentSpanId === remote.spanId);
    assert.ok(fetchSpan, "the upstream fetch span is a child of the provider span");
  } finally {
    await sink.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
