/**
 * A read-only root file system (the Kubernetes Deployment's
 * `readOnlyRootFilesystem`, compose's `read_only`, systemd's
 * `ProtectSystem=strict`): the image's CMD serves with the whole file system
 * read-only, the code, Deno's cache and the config included. The mounts are
 * remounted in a private mount namespace (`unshare --mount`), which needs root
 * or unprivileged user namespaces; where neither is available the test is
 * skipped loudly (a failure under CI=true).
 */
import assert from "node:assert/strict";
import { imageCmd, mapPaths, ROOT, withDeno } from "../support/dockerfile.ts";
import { freePort, isCi, removeDir, systemTest, tempDir } from "../support/system.ts";
import {
  assertBothProvidersAuthenticate,
  whileServing,
  writeGatewaySetup,
} from "../ingress/served_gateway.ts";

const NAME =
  "read-only root file system: the image's CMD serves with /, the code, DENO_DIR and the config read-only";

/** `unshare` arguments that give this user a private mount namespace. */
function unshareArgs(): string[] {
  return Deno.uid() === 0 ? ["--mount"] : ["--mount", "--map-root-user"];
}

/** Why a private mount namespace cannot be had here, or `undefined`. */
async function mountNamespaceUnavailable(): Promise<string | undefined> {
  try {
    const probe = await new Deno.Command("unshare", {
      args: [...unshareArgs(), "--propagation", "private", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (probe.success) return undefined;
    return new TextDecoder().decode(probe.stderr).trim();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Deno's cache directory, as Deno itself reports it. */
async function denoDir(): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
}

async function servesReadOnly(): Promise<void> {
  const etc = await tempDir("read-only");
  try {
    const port = freePort();
    await writeGatewaySetup(etc, port, "read-only");
    const cache = await denoDir();
    const cmd = withDeno(imageCmd().map((arg) => mapPaths(arg, etc)));
    // The whole file system read-only, like a container's read-only root: the root mount, and
    // the code, Deno's cache and the config (a ConfigMap is read-only too) in case they are
    // separate mounts. Then exec the image's command.
    const script = 'for p in "$1" "$2" "$3"; do ' +
      'mount --bind "$p" "$p" && mount -o remount,bind,ro "$p" || exit 90; done; ' +
      "mount -o remount,bind,ro / || exit 91; " +
      // Proof that they are read-only: writing into any of them must fail.
      'for p in / "$1" "$2" "$3"; do ! touch "$p/.read-only-probe" 2>/dev/null || exit 92; done; ' +
      'shift 3; exec "$@"';
    const command = new Deno.Command("unshare", {
      args: [
        ...unshareArgs(),
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        ROOT,
        cache,
        etc,
        cmd.command,
        ...cmd.args,
      ],
      cwd: ROOT,
      env: { AOT_CONFIG_PATH: `${etc}/config.yaml`, DENO_DIR: cache, HOME: etc },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const output = await whileServing(command, port, "the CMD on read-only mounts", async () => {
      await assertBothProvidersAuthenticate(port);
    });
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    assert.doesNotMatch(text, /NotCapable|Requires .* access|Read-only file system|error:/i, text);
  } finally {
    await removeDir(etc);
  }
}

const unavailable = await mountNamespaceUnavailable();
if (unavailable === undefined) {
  systemTest(NAME, ["unshare", "mount"], servesReadOnly);
} else if (isCi()) {
  Deno.test(NAME, () => {
    throw new Error(
      `no private mount namespace (unshare ${unshareArgs().join(" ")}): ${unavailable}`,
    );
  });
} else {
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `SKIPPED ${NAME}: no private mount namespace (needs root or user namespaces): ${unavailable}\n`,
    ),
  );
  Deno.test({ name: NAME, ignore: true, fn() {} });
}
