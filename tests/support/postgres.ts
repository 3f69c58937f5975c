/**
 * A throw-away PostgreSQL cluster (Debian `postgresql`) for system tests:
 * `initdb` in a temp dir, the server in the foreground on a free 127.0.0.1
 * port (fsync off; commits still survive kill9), a database `gateway` owned
 * by a SCRAM password user `gw`.
 * As root the server runs as the OS user `postgres` (PostgreSQL refuses
 * root); otherwise as the current user.
 *
 * ```ts
 * await using pg = await startPostgres();
 * const sql = postgres(pg.uri);
 * await pg.stop(); await pg.start();   // restart on the same data dir
 * await pg.kill9(); await pg.start();  // crash + recovery
 * ```
 *
 * @module
 */

import postgres from "postgres";
import {
  freePort,
  type ManagedProcess,
  removeDir,
  requireBinary,
  run,
  sleep,
  spawnLogged,
  tempDir,
  waitForPort,
} from "./system.ts";

/** A test PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://gw:gwpw@127.0.0.1:PORT/gateway` (stays the same across restarts). */
  uri: string;
  /** The port (stays the same across restarts). */
  port: number;
  /** URI of the superuser `postgres` (password auth) on database `postgres`. */
  superuserUri: string;
  /** The data directory. */
  dataDir: string;
  /** Starts the server again on the same data dir and port (after stop or kill9). */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT); the data dir is kept for `start()`. */
  stop(): Promise<void>;
  /** SIGKILLs the server and all its backends (a crash); `start()` recovers. */
  kill9(): Promise<void>;
  /** Stops the server and removes the temp dir (also `await using`). */
  close(): Promise<void>;
}

const USER = "gw";
const PASSWORD = "gwpw";
const DATABASE = "gateway";

/** The uid/gid of the `postgres` OS user when we are root, else `undefined` (run as ourselves). */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (Deno.uid() !== 0) return undefined;
  const passwd = await Deno.readTextFile("/etc/passwd");
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) {
    throw new Error("running as root but there is no 'postgres' OS user (PostgreSQL refuses root)");
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Waits until the server accepts queries (it refuses them while starting up or recovering). */
async function waitForQueries(uri: string, proc: ManagedProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (true) {
    const sql = postgres(uri, { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (error) {
      if (proc.exited || Date.now() > deadline) {
        throw new Error(`postgres does not accept queries: ${error}\n${await proc.logTail()}`);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
    await sleep(100);
  }
}

/**
 * Creates and starts a cluster with database `gateway` and user `gw`.
 * Throws `MissingBinaryError` when PostgreSQL is not installed.
 */
export async function startPostgres(): Promise<PostgresServer & AsyncDisposable> {
  const initdb = requireBinary("initdb");
  const server = requireBinary("postgres", initdb.replace(/initdb$/, "postgres"));
  const identity = await serverIdentity();
  const dir = await tempDir("postgres");
  if (identity) await Deno.chown(dir, identity.uid, identity.gid);
  const dataDir = `${dir}/data`;
  const port = freePort();
  const superPassword = crypto.randomUUID();
  const superuserUri = `postgres://postgres:${superPassword}@127.0.0.1:${port}/postgres`;
  const uri = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  let proc: ManagedProcess | undefined;
  let starts = 0;

  const start = async () => {
    if (proc && !proc.exited) throw new Error("postgres is already running");
    proc = await spawnLogged(server, {
      // fsync/full_page_writes off only risk data on an OS crash; synchronous_commit stays on
      // so that a committed row survives kill9() (a process crash).
      // deno-fmt-ignore
      args: [
        "-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1",
        "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off", "-c", "full_page_writes=off",
      ],
      logFile: `${dir}/postgres-${++starts}.log`,
      ...identity,
    });
    await waitForPort(port, 60_000, proc);
    await waitForQueries(superuserUri, proc);
  };
  const stop = async () => {
    await proc?.stop("SIGINT", 30_000);
  };
  const kill9 = async () => {
    await proc?.kill9();
  };
  const close = async () => {
    await stop();
    await removeDir(dir);
  };

  try {
    const pwFile = `${dir}/superuser.pw`;
    await Deno.writeTextFile(pwFile, superPassword, { mode: 0o600 });
    if (identity) await Deno.chown(pwFile, identity.uid, identity.gid);
    // deno-fmt-ignore
    await run(initdb, [
      "-D", dataDir, "-U", "postgres", `--pwfile=${pwFile}`, "-E", "UTF8", "--no-locale",
      "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
    ], identity);
    await Deno.remove(pwFile);
    await start();
    const sql = postgres(superuserUri, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(`create role ${USER} login password '${PASSWORD}'`);
      await sql.unsafe(`create database ${DATABASE} owner ${USER}`);
    } finally {
      await sql.end();
    }
  } catch (error) {
    await close();
    throw new Error(`startPostgres failed: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  return {
    uri,
    port,
    superuserUri,
    dataDir,
    start,
    stop,
    kill9,
    close,
    [Symbol.asyncDispose]: close,
  };
}
