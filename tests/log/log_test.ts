import assert from "node:assert/strict";
import { configureSync, getConfig, getLogger, resetSync } from "@logtape/logtape";
import { GatewayError } from "../../lib/util/errors.ts";
import type { Config } from "../../lib/config/types.ts";
import {
  createLogger,
  LOG_CATEGORY,
  type Logger,
  type LoggerOptions,
  logtapeSink,
} from "../../lib/observability/log.ts";

const T0 = Date.UTC(2026, 0, 15, 10, 30, 0, 123);

function config(overrides: Partial<Config["logging"]> = {}): Config["logging"] {
  return {
    level: "debug",
    format: "json",
    serviceName: "authotron",
    serviceVersion: "0.4.0",
    ...overrides,
  };
}

/** A logger writing into an array, with a settable clock. */
function capture(
  overrides: Partial<Config["logging"]> = {},
  options: LoggerOptions = {},
): { log: Logger; lines: string[]; clock: { now: number } } {
  const lines: string[] = [];
  const clock = { now: T0 };
  const log = createLogger(config(overrides), {
    sink: (line) => lines.push(line),
    now: () => clock.now,
    ...options,
  });
  return { log, lines, clock };
}

function parsed(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line));
}

Deno.test("createLogger() JSON format writes one OpenTelemetry-style object per line", () => {
  const { log, lines } = capture({ serviceName: "gw", serviceVersion: "9.9.9" });
  log.info("auth.request.authenticated", "user authenticated", {
    username: "alice",
    roles_count: 2,
    admin: false,
    roles: "a,b",
  });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("\n"));
  assert.deepEqual(JSON.parse(lines[0]), {
    timestamp: "2026-01-15T10:30:00.123Z",
    severityText: "INFO",
    severityNumber: 9,
    body: "user authenticated",
    resource: { "service.name": "gw", "service.version": "9.9.9" },
    attributes: {
      "event.name": "auth.request.authenticated",
      "event.domain": "auth",
      username: "alice",
      roles_count: 2,
      admin: false,
      roles: "a,b",
      "code.target": "authotron",
    },
  });
  assert.deepEqual(Object.keys(JSON.parse(lines[0])), [
    "timestamp",
    "severityText",
    "severityNumber",
    "body",
    "resource",
    "attributes",
  ]);
});

Deno.test("createLogger() maps levels to severity text and number", () => {
  const { log, lines } = capture({ level: "trace" });
  log.debug("a.b", "d");
  log.info("a.b", "i");
  log.warn("a.b", "w");
  log.error("a.b", "e");
  assert.deepEqual(
    parsed(lines).map((l) => [l.severityText, l.severityNumber, l.body]),
    [["DEBUG", 5, "d"], ["INFO", 9, "i"], ["WARN", 13, "w"], ["ERROR", 17, "e"]],
  );
});

Deno.test("createLogger() filters by logging.level", () => {
  const { log, lines } = capture({ level: "warn" });
  log.debug("x.y", "no");
  log.info("x.y", "no");
  log.warn("x.y", "yes");
  log.error("x.y", "yes");
  log.throttled("info", "k", "x.y", "no");
  assert.deepEqual(parsed(lines).map((l) => l.severityText), ["WARN", "ERROR"]);
  assert.deepEqual(
    (["trace", "debug", "info", "warn", "error"] as const).map((l) => log.enabled(l)),
    [false, false, false, true, true],
  );
  const trace = capture({ level: "trace" }).log;
  assert.equal(trace.enabled("trace"), true);
  assert.equal(capture({ level: "error" }).log.enabled("warn"), false);
});

Deno.test("Logger.child() sets code.target and shares the instance's output", () => {
  const { log, lines } = capture();
  const plain = log.child("providers", "plain");
  plain.debug("providers.plain.decode.failed", "bad base64");
  plain.child("cache").info("providers.plain.cache.hit", "hit");
  const targets = parsed(lines).map((l) =>
    (l.attributes as Record<string, unknown>)["code.target"]
  );
  assert.deepEqual(targets, ["authotron.providers.plain", "authotron.providers.plain.cache"]);
});

Deno.test("createLogger() keeps several loggers independent in one process", () => {
  const a = capture({ level: "error", format: "json" });
  const b = capture({ level: "debug", format: "console" });
  a.log.info("x.a", "from a, filtered");
  b.log.info("x.b", "from b");
  a.log.error("x.a", "from a");
  assert.equal(a.lines.length, 1);
  assert.equal(JSON.parse(a.lines[0]).body, "from a");
  assert.equal(b.lines.length, 1);
  assert.ok(b.lines[0].startsWith("2026-01-15T10:30:00.123Z INFO  x.b  from b"));
});

Deno.test("createLogger() console format is one readable line with key=value pairs", () => {
  const { log, lines } = capture({ format: "console" });
  log.child("auth").warn("auth.provider.all_failed", "all providers failed", {
    scheme: "Basic",
    last_error: "invalid credentials",
    providers_count: 2,
  });
  assert.equal(
    lines[0],
    '2026-01-15T10:30:00.123Z WARN  auth.provider.all_failed  all providers failed  scheme=Basic last_error="invalid credentials" providers_count=2 code.target=authotron.auth',
  );
});

Deno.test("createLogger() console format escapes CR/LF and ANSI in values, messages and events", () => {
  const { log, lines } = capture({ format: "console" });
  const forged =
    "bob\r\n2026-01-15T10:30:00.123Z INFO  auth.request.authenticated  ok  username=admin";
  log.info("auth.request.authenticated", `hello ${forged}`, {
    username: forged,
    colour: "\x1b[31mred\x1b[0m",
    tab: "a\tb",
  });
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.ok(!/\p{Cc}/u.test(line), line);
  assert.ok(
    line.includes(
      'username="bob\\r\\n2026-01-15T10:30:00.123Z INFO  auth.request.authenticated  ok  username=admin"',
    ),
  );
  assert.ok(line.includes("hello bob\\r\\n2026"));
  assert.ok(line.includes('colour="\\u001b[31mred\\u001b[0m"'));
  assert.ok(line.includes('tab="a\\tb"'));
});

Deno.test("createLogger() JSON format keeps hostile values inside one line", () => {
  const { log, lines } = capture();
  log.info("auth.request.authenticated", "x\ny", { username: 'bob\r\n{"forged":1}\x1b[2J' });
  assert.equal(lines.length, 1);
  assert.ok(!/\p{Cc}/u.test(lines[0]));
  const record = JSON.parse(lines[0]);
  assert.equal(record.body, "x\ny");
  assert.equal(record.attributes.username, 'bob\r\n{"forged":1}\x1b[2J');
});

Deno.test("createLogger() redacts secret-looking attributes in both formats", () => {
  for (const format of ["json", "console"] as const) {
    const { log, lines } = capture({ format });
    log.error("auth.provider.failed", "failed", {
      authorization: "Basic YWxpY2U6czNjcmV0",
      Password: "s3cret-pw",
      client_secret: "cs-value",
      access_token: "tok-value",
      apiKey: "key-value",
      nested: { cookie: "c-value", keep: "visible" },
      token_length: 42,
      tokens_count: 3,
      cache_ttl_seconds: 60,
      cache_key_type: "sha256",
      uri: "postgres://gw:db-pass@127.0.0.1/tokens",
    });
    const line = lines[0];
    for (
      const secret of [
        "YWxpY2U6czNjcmV0",
        "s3cret-pw",
        "cs-value",
        "tok-value",
        "key-value",
        "c-value",
        "db-pass",
      ]
    ) {
      assert.ok(!line.includes(secret), `${format} leaked ${secret}: ${line}`);
    }
    for (const kept of ["visible", "42", "sha256", "60", "127.0.0.1/tokens"]) {
      assert.ok(line.includes(kept), `${format} lost ${kept}: ${line}`);
    }
    if (format === "json") {
      const attributes = JSON.parse(line).attributes;
      assert.equal(attributes.authorization, "[REDACTED]");
      assert.equal(attributes.token_length, 42);
      assert.equal(attributes.tokens_count, 3);
      assert.equal(attributes.uri, "postgres://gw:[REDACTED]@127.0.0.1/tokens");
    }
  }
});

Deno.test("Logger.throttled() emits once per 30 s window with suppressed_count", () => {
  const { log, lines, clock } = capture();
  const missing = () =>
    log.throttled("debug", "header_missing", "auth.header.missing", "no Authorization header");
  missing();
  clock.now += 1_000;
  missing();
  clock.now += 28_000;
  missing();
  assert.equal(lines.length, 1);
  clock.now = T0 + 30_000;
  missing();
  clock.now += 10;
  missing();
  const records = parsed(lines);
  assert.equal(records.length, 2);
  const counts = records.map((r) => (r.attributes as Record<string, unknown>).suppressed_count);
  assert.deepEqual(counts, [0, 2]);
  assert.equal(records[1].timestamp, "2026-01-15T10:30:30.123Z");
  assert.equal(
    (records[0].attributes as Record<string, unknown>)["event.name"],
    "auth.header.missing",
  );
});

Deno.test("Logger.throttled() keeps separate windows per key", () => {
  const { log, lines } = capture();
  log.throttled("warn", "invalid_format", "auth.header.invalid", "bad", {
    reason: "invalid_format",
  });
  log.throttled("warn", "too_many", "auth.header.invalid", "bad", {
    reason: "too_many_credentials",
    max_credentials: 3,
  });
  log.throttled("warn", "invalid_format", "auth.header.invalid", "bad", {
    reason: "invalid_format",
  });
  const attrs = parsed(lines).map((r) => r.attributes as Record<string, unknown>);
  assert.deepEqual(attrs.map((a) => a.reason), ["invalid_format", "too_many_credentials"]);
  assert.equal(attrs[1].max_credentials, 3);
});

Deno.test("createLogger() sends its records through LogTape under the authotron category", () => {
  const { log, lines } = capture();
  log.info("startup.server.listening", "listening", { port: 8080 });
  // A record emitted through LogTape directly under another instance id reaches no sink.
  getLogger(["authotron", "no-such-instance"]).info("stray record");
  getLogger(["elsewhere"]).error("not ours");
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]).attributes.port, 8080);
  const config = getConfig();
  assert.ok(config && Object.values(config.sinks).includes(logtapeSink));
  assert.ok(config.loggers.some((l) => l.category === LOG_CATEGORY));
});

Deno.test("createLogger() depends on LogTape's configuration and refuses a foreign one", () => {
  const { log, lines } = capture();
  try {
    // Once LogTape is reset, the routing sink is gone: records go nowhere.
    resetSync();
    log.error("x.y", "dropped");
    assert.equal(lines.length, 0);
    configureSync({
      sinks: {},
      loggers: [{ category: ["logtape", "meta"], lowestLevel: null }],
    });
    assert.throws(
      () => createLogger(config()),
      (e) => e instanceof GatewayError && e.code === "ERR_STARTUP",
    );
  } finally {
    resetSync();
  }
  // A new logger installs the routing sink again.
  const again = capture();
  again.log.error("x.y", "delivered");
  assert.equal(again.lines.length, 1);
  log.error("x.y", "delivered too");
  assert.equal(lines.length, 1);
});

Deno.test("createLogger() turns errors and odd values into JSON-safe attributes", () => {
  const { log, lines } = capture();
  const error = Object.assign(new TypeError("boom"), { code: "ERR_X" });
  log.error("routes.tokens.store_error", "store failed", {
    error,
    big: 10n,
    missing: undefined,
    when: new Date(T0),
    inf: Infinity,
    list: ["a", 1],
  });
  const attributes = JSON.parse(lines[0]).attributes;
  assert.equal(attributes.error, "TypeError [ERR_X]: boom");
  assert.equal(attributes.big, "10");
  assert.equal(attributes.missing, null);
  assert.equal(attributes.when, "2026-01-15T10:30:00.123Z");
  assert.equal(attributes.inf, "Infinity");
  assert.deepEqual(attributes.list, ["a", 1]);
});

Deno.test("createLogger() attributes cannot overwrite event.name or code.target", () => {
  const { log, lines } = capture();
  log.info("real.event", "m", { "event.name": "fake", "code.target": "fake", "event.domain": "x" });
  const attributes = JSON.parse(lines[0]).attributes;
  assert.equal(attributes["event.name"], "real.event");
  assert.equal(attributes["event.domain"], "real");
  assert.equal(attributes["code.target"], "authotron");
});

Deno.test("createLogger() writes to stdout by default, one line per event, nothing to stderr", async () => {
  const logModule = new URL("../../lib/observability/log.ts", import.meta.url).href;
  const script = `
    import { createLogger } from ${JSON.stringify(logModule)};
    const log = createLogger({ level: "info", format: "json", serviceName: "s", serviceVersion: "v" });
    log.info("startup.server.listening", "listening", { port: 1 });
    log.debug("hidden.event", "hidden");
    log.warn("w.x", "x".repeat(100000));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(new TextDecoder().decode(output.stderr), "");
  assert.equal(output.code, 0);
  const lines = stdout.split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "");
  assert.equal(JSON.parse(lines[0]).attributes["event.name"], "startup.server.listening");
  assert.equal(JSON.parse(lines[1]).body.length, 100000);
});
