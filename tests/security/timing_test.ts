/**
 * T01–T03: wrong password, unknown user and malformed credential cost the
 * same through the `plain` provider. Many interleaved samples in random
 * order, compared by their medians (robust to the scheduling noise of a
 * shared machine); the tolerance is wide, but far below the gap an early
 * return before hashing makes (verified by hand against such a variant, see
 * docs/security.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import plain from "../../providers/plain.ts";
import { hashPassword } from "../../providers/_shared/password_hash.ts";
import type { Provider } from "../../lib/plugin.ts";
import { basic, callContext, pluginContext } from "../support/plugin_context.ts";

type Kind = "wrong password" | "unknown user" | "malformed";

const SAMPLES = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times `batch` calls per sample, `SAMPLES` samples per kind, kinds shuffled. */
async function measure(p: Provider, batch: number): Promise<Record<Kind, number>> {
  const credentials: Record<Kind, string> = {
    "wrong password": basic("alice:not-her-password"),
    "unknown user": basic("mallory:not-her-password"),
    malformed: "YWxp Y2U6cHc=", // internal space: not canonical base64
  };
  const kinds = Object.keys(credentials) as Kind[];
  const order = kinds.flatMap((kind) => Array<Kind>(SAMPLES).fill(kind));
  for (let i = order.length - 1; i > 0; i--) { // Fisher–Yates with a fixed LCG seed
    const j = (i * 2654435761 + 12345) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const samples: Record<Kind, number[]> = {
    "wrong password": [],
    "unknown user": [],
    malformed: [],
  };
  const ctx = callContext();
  for (const kind of order) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) {
      assert.equal(await p.authenticate(credentials[kind], ctx), undefined);
    }
    samples[kind].push((performance.now() - started) / batch);
  }
  return Object.fromEntries(kinds.map((k) => [k, median(samples[k])])) as Record<Kind, number>;
}

function report(label: string, medians: Record<Kind, number>): void {
  const text = Object.entries(medians).map(([k, v]) => `${k} ${(v * 1000).toFixed(1)} µs`);
  Deno.stderr.writeSync(
    new TextEncoder().encode(`TIMING ${label} (${SAMPLES} samples each): ${text.join(", ")}\n`),
  );
}

async function provider(users: Record<string, unknown>[]): Promise<Provider> {
  return await plain.create(plain.parseOptions!({ users }), pluginContext("plain"));
}

Deno.test("T01 plain provider with password_hash: wrong password, unknown user and malformed cost the same", async () => {
  // Few iterations keep the test fast; an early return would still be ~100× cheaper.
  const hash = await hashPassword("correct horse", 5_000);
  const p = await provider([
    { username: "alice", password_hash: hash },
    { username: "bob", password_hash: await hashPassword("battery", 5_000) },
  ]);
  const medians = await measure(p, 1);
  report("password_hash", medians);
  const values = Object.values(medians);
  const ratio = Math.max(...values) / Math.min(...values);
  assert.ok(ratio < 1.5, `medians differ by ×${ratio.toFixed(2)}: ${JSON.stringify(medians)}`);
});

Deno.test("T01 plain provider with plaintext passwords: the three failures cost the same", async () => {
  const p = await provider([
    { username: "alice", password: "correct horse" },
    { username: "bob", password: "battery staple" },
  ]);
  const medians = await measure(p, 20);
  report("plaintext", medians);
  const values = Object.values(medians);
  // Microsecond-scale work: allow ×2.5 or 5 µs, whichever is larger (an early return is ×50).
  const spread = Math.max(...values) - Math.min(...values);
  assert.ok(
    spread < Math.max(1.5 * Math.min(...values), 0.005),
    `medians differ by ${(spread * 1000).toFixed(1)} µs: ${JSON.stringify(medians)}`,
  );
});
