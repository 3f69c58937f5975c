import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import {
  escapeText,
  formatConsoleValue,
  getConsoleFormatter,
  getJsonFormatter,
} from "../../lib/observability/log_format.ts";

function record(level: LogRecord["level"], properties: Record<string, unknown>): LogRecord {
  return {
    category: ["authotron", "0"],
    level,
    message: ["hello"],
    rawMessage: "hello",
    timestamp: Date.UTC(2026, 0, 15, 10, 30, 0, 123),
    properties,
  };
}

Deno.test("escapeText() escapes controls, DEL, C1, line separators and backslash", () => {
  assert.equal(escapeText("a\r\nb\tc"), "a\\r\\nb\\tc");
  assert.equal(
    escapeText("\x1b[2J\x00\x7f\x85\u2028\u2029"),
    "\\u001b[2J\\u0000\\u007f\\u0085\\u2028\\u2029",
  );
  assert.equal(escapeText("C:\\path"), "C:\\\\path");
  assert.equal(escapeText('plain "quoted" é ✓'), 'plain "quoted" é ✓');
});

Deno.test("formatConsoleValue() quotes only when needed", () => {
  assert.equal(formatConsoleValue("alice"), "alice");
  assert.equal(formatConsoleValue("two words"), '"two words"');
  assert.equal(formatConsoleValue(""), '""');
  assert.equal(formatConsoleValue("a=b"), '"a=b"');
  assert.equal(formatConsoleValue('say "x"'), '"say \\"x\\""');
  assert.equal(formatConsoleValue("line\nbreak"), '"line\\nbreak"');
  assert.equal(formatConsoleValue(42), "42");
  assert.equal(formatConsoleValue(true), "true");
  assert.equal(formatConsoleValue(null), "null");
  assert.equal(formatConsoleValue(["a", "b c"]), '"[\\"a\\",\\"b c\\"]"');
});

Deno.test("getJsonFormatter() maps every level to OpenTelemetry severities", () => {
  const format = getJsonFormatter({ serviceName: "s", serviceVersion: "v" });
  const levels = ["trace", "debug", "info", "warning", "error"] as const;
  assert.deepEqual(
    levels.map((l) => {
      const { severityText, severityNumber } = JSON.parse(format(record(l, {})));
      return [severityText, severityNumber];
    }),
    [["TRACE", 1], ["DEBUG", 5], ["INFO", 9], ["WARN", 13], ["ERROR", 17]],
  );
});

Deno.test("getConsoleFormatter() colours the level only when asked", () => {
  const props = { "event.name": "a.b", "event.domain": "a", "code.target": "authotron" };
  const plain = getConsoleFormatter()(record("error", props));
  assert.equal(plain, "2026-01-15T10:30:00.123Z ERROR a.b  hello  code.target=authotron");
  const coloured = getConsoleFormatter({ color: true })(record("error", props));
  assert.equal(
    coloured,
    "2026-01-15T10:30:00.123Z \x1b[31mERROR\x1b[0m a.b  hello  code.target=authotron",
  );
});

Deno.test("getJsonFormatter() escapes DEL, every C1 control and U+2028/U+2029 as the console format does (F7)", () => {
  const c1 = Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(0x7f + i)).join("");
  const hostile = `a\x85b${c1}\u2028\u2029é✓`;
  const line = getJsonFormatter({ serviceName: "s", serviceVersion: "1" })(
    record("info", { username: hostile }),
  );
  assert.doesNotMatch(line, /[\x7f-\x9f\u2028\u2029]/, "no raw DEL, C1 or line separator");
  assert.match(line, /a\\u0085b\\u007f\\u0080/);
  assert.equal(JSON.parse(line).attributes.username, hostile, "still the same value");
  assert.match(line, /é✓/, "other non-ASCII text stays readable");
});
