/**
 * What the deploy/ tests share: walking parsed manifests, running several
 * gateway replicas with the image's command, and the checks that replicas
 * share their secret and token store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { imageCommand, ROOT } from "../support/dockerfile.ts";
import { whileServing } from "../ingress/served_gateway.ts";

/** `deploy/` in the checkout. */
export const DEPLOY = `${ROOT}/deploy`;

/** A YAML mapping as read by the tests. */
export type Doc = Record<string, unknown>;

/** Follows a dotted path (`spec.template.spec`) through mappings and lists (`containers.0`). */
export function at<T = unknown>(doc: unknown, path: string): T {
  let node = doc;
  for (const key of path.split(".")) {
    assert.ok(node !== null && typeof node === "object", `${path}: no ${key}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node as T;
}

/** A demo provider for the test run, set like an operator would: `AOT_PROVIDERS`. */
export const TEST_PROVIDERS =
  '[{type="plain",name="people",realm="demo",users=[{username="alice",password="alice-pw"}]}]';

/** Alice's Basic credential for {@link TEST_PROVIDERS}. */
export const ALICE = basicAuth("alice:alice-pw");

/** One replica: its environment (container view) and the port of its app listener. */
export interface Replica {
  /** Environment variables as the container gets them (image paths, mapped by the runner). */
  readonly env: Record<string, string>;
  /** The app listener's port on 127.0.0.1. */
  readonly port: number;
}

/**
 * Runs one gateway per replica with the image's `CMD` (paths mapped onto
 * `etc`), waits until all listen, runs `check`, stops them and asserts each
 * exited cleanly without a permission error.
 */
export async function withReplicas(
  etc: string,
  replicas: readonly Replica[],
  check: () => Promise<void>,
): Promise<void> {
  const outputs: Deno.CommandOutput[] = [];
  const serve = async (index: number): Promise<void> => {
    if (index === replicas.length) return await check();
    const replica = replicas[index]!;
    const output = await whileServing(
      imageCommand(etc, replica.env),
      replica.port,
      `replica ${index + 1}`,
      () => serve(index + 1),
    );
    outputs.push(output);
  };
  await serve(0);
  for (const output of outputs) {
    const text = new TextDecoder().decode(output.stderr) +
      new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, text);
    assert.doesNotMatch(text, /NotCapable|Requires .* access/);
  }
}

/** GET `url`, returning the status (body read and dropped). */
export async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

/**
 * Alice creates a long-lived token on the replica at `creator`; the replica at
 * `user` accepts it: both use the same token store and `jwt.secret` config.
 */
export async function assertTokenWorksAcrossReplicas(creator: number, user: number): Promise<void> {
  const created = await fetch(`http://127.0.0.1:${creator}/tokens?name=deploy-test`, {
    method: "POST",
    headers: { authorization: ALICE },
  });
  const body = await created.json();
  assert.equal(created.status, 200, JSON.stringify(body));
  const token = String(body.token);
  const res = await fetch(`http://127.0.0.1:${user}/authenticate`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  assert.equal(res.status, 200, "a token created on one replica works on the other");
}
