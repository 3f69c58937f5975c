/**
 * Test-support basics for system tests that run real servers (slapd,
 * PostgreSQL, nginx, Node): binary lookup, loud skipping (a failure when
 * `CI=true`), free ports, temp dirs, and the process helper.
 *
 * @module
 */

/** The process helper: {@linkcode spawnLogged} starts a server with its output in a log file. */
export { ManagedProcess, spawnLogged } from "./process.ts";
/** Options of {@linkcode spawnLogged}. */
export type { SpawnOptions } from "./process.ts";

/** Where Debian (and other distributions) put binaries that are not on a normal user's PATH. */
const KNOWN_LOCATIONS: Record<string, string[]> = {
  slapd: ["/usr/sbin/slapd"],
  nginx: ["/usr/sbin/nginx"],
  initdb: ["/usr/lib/postgresql/*/bin/initdb"],
  postgres: ["/usr/lib/postgresql/*/bin/postgres"],
};

/** How to install each binary, for the skip message. */
const INSTALL_HINTS: Record<string, string> = {
  slapd: "apt-get install slapd ldap-utils",
  ldapsearch: "apt-get install ldap-utils",
  initdb: "apt-get install postgresql",
  postgres: "apt-get install postgresql",
  nginx: "apt-get install nginx",
  kubectl: "apt-get install kubectl",
  "systemd-analyze": "apt-get install systemd",
  unshare: "apt-get install util-linux",
  mount: "apt-get install mount",
  openssl: "apt-get install openssl",
  node: "install Node.js 20: apt-get install nodejs npm",
  npm: "install Node.js 20: apt-get install nodejs npm",
  chromium: "apt-get install chromium",
};

/** Thrown when a server binary a test or helper needs is not installed. */
export class MissingBinaryError extends Error {
  /** The binary that was looked for. */
  readonly binary: string;
  /** Creates the error with the standard `<name> not installed (<hint>)` message. */
  constructor(binary: string) {
    super(missingReason(binary));
    this.name = "MissingBinaryError";
    this.binary = binary;
  }
}

/** `slapd not installed (apt-get install slapd ldap-utils)`. */
function missingReason(binary: string): string {
  const hint = INSTALL_HINTS[binary];
  return `${binary} not installed${hint ? ` (${hint})` : ""}`;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Expands `*` in path segments, newest version first (`/usr/lib/postgresql/*\/bin/initdb`). */
function expandGlob(pattern: string): string[] {
  let paths = [""];
  for (const segment of pattern.split("/").slice(1)) {
    if (!segment.includes("*")) {
      paths = paths.map((p) => `${p}/${segment}`);
      continue;
    }
    const re = new RegExp(
      `^${segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`,
    );
    paths = paths.flatMap((dir) => {
      try {
        return [...Deno.readDirSync(dir || "/")]
          .filter((e) => re.test(e.name))
          .map((e) => `${dir}/${e.name}`);
      } catch {
        return [];
      }
    });
  }
  return paths.sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
}

/**
 * Finds an executable: `name` on PATH, then the known install locations for
 * `name`, then each alternative (a name looked up on PATH, or an absolute
 * path that may contain `*`). Returns the absolute path or `undefined`.
 */
export function findBinary(
  name: string,
  ...alternatives: string[]
): string | undefined {
  const pathDirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  const candidates = [name, ...(KNOWN_LOCATIONS[name] ?? []), ...alternatives];
  for (const candidate of candidates) {
    const paths = candidate.startsWith("/")
      ? expandGlob(candidate)
      : pathDirs.map((dir) => `${dir}/${candidate}`);
    const found = paths.find(isExecutableFile);
    if (found) return found;
  }
  return undefined;
}

/** Like {@linkcode findBinary} but throws {@linkcode MissingBinaryError} when nothing is found. */
export function requireBinary(name: string, ...alternatives: string[]): string {
  const found = findBinary(name, ...alternatives);
  if (found === undefined) throw new MissingBinaryError(name);
  return found;
}

/** True when running under CI (`CI=true`), where a skipped system test is a failure. */
export function isCi(): boolean {
  return ["true", "1"].includes((Deno.env.get("CI") ?? "").toLowerCase());
}

/**
 * Registers a `Deno.test` that needs the binaries in `needs` (e.g.
 * `["slapd", "openssl"]`). When one is missing the test is ignored and a
 * loud `SKIPPED <name>: <binary> not installed (<hint>)` line goes to stderr;
 * with `CI=true` the test is registered anyway and fails with that message.
 */
export function systemTest(
  name: string,
  needs: string[],
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void {
  const missing = needs.filter((binary) => findBinary(binary) === undefined);
  if (missing.length === 0) {
    Deno.test(name, fn);
    return;
  }
  const reason = missing.map(missingReason).join("; ");
  if (isCi()) {
    Deno.test(name, () => {
      throw new MissingBinaryError(missing[0]);
    });
    return;
  }
  Deno.stderr.writeSync(
    new TextEncoder().encode(`SKIPPED ${name}: ${reason}\n`),
  );
  Deno.test({ name, ignore: true, fn });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, close, return it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until something accepts TCP connections on 127.0.0.1:`port`.
 * When `process` is given, fails as soon as it exits, quoting its log.
 */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  process?: { exited: boolean; command: string; logTail(): Promise<string> },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      // not listening yet
    }
    if (process?.exited) {
      throw new Error(
        `${process.command} exited before listening on port ${port}:\n${await process
          .logTail()}`,
      );
    }
    if (Date.now() > deadline) {
      const log = process ? `:\n${await process.logTail()}` : "";
      throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms${log}`);
    }
    await sleep(50);
  }
}

/** Creates a fresh temp directory named `authotron-<prefix>-XXXX`. */
export function tempDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ prefix: `authotron-${prefix}-` });
}

/** Removes a directory tree, ignoring one that is already gone. */
export async function removeDir(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; uid?: number; gid?: number } = {},
): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    ...options,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  const output = decoder.decode(result.stdout) + decoder.decode(result.stderr);
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${result.code}):\n${output}`,
    );
  }
  return output;
}
