/**
 * OpenTelemetry spans for the authentication pipeline: one `authenticate`
 * span per request, one `provider <name>` span per provider attempt and one
 * `augmenter <name>` span per augmenter run, through `npm:@opentelemetry/api`.
 *
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`) registers the tracer
 * provider and the context manager, and its auto-instrumented `Deno.serve`
 * span (which continues an incoming `traceparent`) is the parent of these
 * spans; `fetch` calls made by providers become their children.
 *
 * Attributes are names, types, realms and outcomes only, never credentials.
 * When `OTEL_DENO` is visibly off, {@link startSpan} returns a shared no-op
 * span, so tracing costs one branch per call.
 *
 * @module
 */

import { type Attributes, context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { VERSION } from "../config/types.ts";

/** Attribute names used on the gateway's spans. */
export const SPAN_ATTRIBUTES = {
  outcome: "authotron.outcome",
  realm: "authotron.realm",
  realmFilter: "authotron.realm_filter",
  providerName: "authotron.provider.name",
  providerType: "authotron.provider.type",
  providerScheme: "authotron.provider.scheme",
  providerRealm: "authotron.provider.realm",
  upstreamKind: "authotron.upstream.kind",
  augmenterName: "authotron.augmenter.name",
  augmenterType: "authotron.augmenter.type",
  augmenterRealm: "authotron.augmenter.realm",
} as const;

/** A started span: attributes, status, a context to run code in, and its end. */
export interface PipelineSpan {
  /** Adds attributes (no-op when not recording). */
  set(attributes: Attributes): void;
  /** Marks the span as failed with a short, secret-free description. */
  fail(description: string): void;
  /** Runs `fn` with this span active, so spans started inside become children. */
  run<T>(fn: () => T): T;
  /** Ends the span (only the first call counts). */
  end(): void;
}

const NO_SPAN: PipelineSpan = {
  set() {},
  fail() {},
  run: (fn) => fn(),
  end() {},
};

function otelRequested(): boolean {
  try {
    const state = Deno.permissions.querySync({ name: "env", variable: "OTEL_DENO" }).state;
    if (state !== "granted") return true; // cannot tell: keep the API path, which is correct
    const value = Deno.env.get("OTEL_DENO")?.toLowerCase();
    return value === "true" || value === "1";
  } catch {
    return true;
  }
}

/** True when spans may be recorded (decided once, at startup). */
export const TRACING_ENABLED: boolean = otelRequested();

const tracer = trace.getTracer("authotron", VERSION);

/**
 * Starts a span named `name` as a child of the active span (the request's
 * server span, or an enclosing pipeline span). The caller ends it, so a call
 * that times out can end its span without waiting for the plugin.
 */
export function startSpan(name: string, attributes: Attributes): PipelineSpan {
  if (!TRACING_ENABLED) return NO_SPAN;
  const span: Span = tracer.startSpan(name, { attributes });
  if (!span.isRecording()) return NO_SPAN;
  const active = trace.setSpan(context.active(), span);
  return {
    set: (attrs) => span.setAttributes(attrs),
    fail: (description) => span.setStatus({ code: SpanStatusCode.ERROR, message: description }),
    run: (fn) => context.with(active, fn),
    end: () => span.end(),
  };
}
