/**
 * LogTape text formatters for the two output formats of spec section 11:
 * OpenTelemetry-style JSON lines, and a readable single-line console format
 * whose values are escaped so that client-controlled text (a username with
 * CR/LF or ANSI escapes) cannot forge or colour log lines.
 *
 * Both read records that `lib/observability/log.ts` emits: one message part, and
 * properties that are already the event's sanitised `attributes`.
 *
 * @module
 */

import type { LogRecord, TextFormatter } from "@logtape/logtape";

type Severity = { text: string; number: number; color: string };

/** OpenTelemetry severity text and number for each LogTape level. */
const SEVERITY: Record<LogRecord["level"], Severity> = {
  trace: { text: "TRACE", number: 1, color: "\x1b[90m" },
  debug: { text: "DEBUG", number: 5, color: "\x1b[36m" },
  info: { text: "INFO", number: 9, color: "\x1b[32m" },
  warning: { text: "WARN", number: 13, color: "\x1b[33m" },
  error: { text: "ERROR", number: 17, color: "\x1b[31m" },
  fatal: { text: "FATAL", number: 21, color: "\x1b[35m" },
};

/** The `resource` of every JSON line. */
export interface LogResource {
  /** `logging.service_name`. */
  readonly serviceName: string;
  /** `logging.service_version`. */
  readonly serviceVersion: string;
}

function bodyOf(record: LogRecord): string {
  const { message } = record;
  return message.length === 1 ? String(message[0]) : message.join("");
}

/**
 * Formats a record as one JSON object: `timestamp`, `severityText`,
 * `severityNumber`, `body`, `resource` and `attributes`.
 */
export function getJsonFormatter(resource: LogResource): TextFormatter {
  const res = {
    "service.name": resource.serviceName,
    "service.version": resource.serviceVersion,
  };
  return (record) => {
    const severity = SEVERITY[record.level];
    return escapeUnsafeForLines(JSON.stringify({
      timestamp: new Date(record.timestamp).toISOString(),
      severityText: severity.text,
      severityNumber: severity.number,
      body: bodyOf(record),
      resource: res,
      attributes: record.properties,
    }));
  };
}

// What JSON.stringify leaves raw but the console format escapes: DEL, the C1
// controls (U+0080–U+009F, NEL included) and U+2028/U+2029.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * `JSON.stringify` escapes only C0 controls: DEL, C1 controls (U+0085 is a
 * line break to many viewers) and U+2028/U+2029 stay raw. Escape them as
 * `\uXXXX` (still the same JSON value) so one event stays one line everywhere.
 */
function escapeUnsafeForLines(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// \p{Cc}: C0 controls (CR, LF, ESC, …), DEL and C1 controls.
const UNSAFE = /[\\"\p{Cc}\u2028\u2029]/gu;
const UNSAFE_TEXT = /[\\\p{Cc}\u2028\u2029]/gu;
const NEEDS_QUOTES = /[\s"=\\\p{Cc}]/u;
const NAMED: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function escapeChar(c: string): string {
  return NAMED[c] ??
    `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Escapes free text for a console line: backslash, control characters
 * (including ESC, DEL and C1) and Unicode line separators become `\n`,
 * `\u001b`, … so the text stays on one line and cannot emit ANSI codes.
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE_TEXT, escapeChar);
}

/**
 * Formats one `key=value` value: plain when it is a simple token, otherwise
 * double-quoted with `\`, `"` and control characters escaped. Non-strings
 * print as JSON.
 */
export function formatConsoleValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
  if (text !== "" && !NEEDS_QUOTES.test(text)) return text;
  return `"${text.replace(UNSAFE, escapeChar)}"`;
}

/** Console formatter options. */
export interface ConsoleFormatOptions {
  /** Colour the level with ANSI codes (only for a terminal). */
  readonly color?: boolean;
}

/**
 * Formats a record as `2026-01-15T10:30:00.123Z WARN  event.name  message
 * key=value key2="quoted value"`; `event.domain` is left out as redundant.
 */
export function getConsoleFormatter(
  options: ConsoleFormatOptions = {},
): TextFormatter {
  return (record) => {
    const severity = SEVERITY[record.level];
    const level = severity.text.padEnd(5);
    const props = record.properties;
    let line = `${new Date(record.timestamp).toISOString()} ${
      options.color ? `${severity.color}${level}\x1b[0m` : level
    } ${escapeText(String(props["event.name"] ?? ""))}  ${escapeText(bodyOf(record))}`;
    let separator = "  ";
    for (const key in props) {
      if (key === "event.name" || key === "event.domain") continue;
      line += `${separator}${escapeText(key)}=${formatConsoleValue(props[key])}`;
      separator = " ";
    }
    return line;
  };
}
