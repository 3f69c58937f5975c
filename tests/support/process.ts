/**
 * A spawned server process for system tests: runs in its own process group,
 * writes stdout and stderr to a log file, and is stopped by signalling the
 * whole group (so worker processes such as nginx workers or PostgreSQL
 * backends go with it).
 *
 * @module
 */

/** Options for {@linkcode spawnLogged}. */
export interface SpawnOptions {
  /** Arguments after the command. */
  args: string[];
  /** File that receives stdout and stderr (appended). */
  logFile: string;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Run as this OS user id (needs root). */
  uid?: number;
  /** Run as this OS group id (needs root). */
  gid?: number;
}

/** How long {@linkcode ManagedProcess.stop} waits before escalating to SIGKILL. */
const DEFAULT_GRACE_MS = 15_000;

/** A child process started by {@linkcode spawnLogged}. */
export class ManagedProcess {
  /** The command that was started (for messages). */
  readonly command: string;
  /** Process id; also the process group id. */
  readonly pid: number;
  /** File that receives stdout and stderr. */
  readonly logFile: string;
  /** Resolves with the exit status once the process has exited and its output is flushed. */
  readonly status: Promise<Deno.CommandStatus>;
  #exit: Promise<Deno.CommandStatus>;
  #exited = false;

  /** Wraps an already spawned child; use {@linkcode spawnLogged}. */
  constructor(
    command: string,
    child: Deno.ChildProcess,
    logFile: string,
    output: Promise<unknown>,
  ) {
    this.command = command;
    this.pid = child.pid;
    this.logFile = logFile;
    this.#exit = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    // Output ends when the last process holding the pipes (maybe a straggler) is gone.
    this.status = Promise.all([this.#exit, output]).then(([status]) => status);
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Sends `signal` to the process group, waits up to `graceMs` for the
   * process to exit, then SIGKILLs whatever is left of the group.
   */
  async stop(
    signal: Deno.Signal = "SIGTERM",
    graceMs = DEFAULT_GRACE_MS,
  ): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.#signalGroup(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);
    // Leftover group members (workers, backends, stuck children) are killed either way.
    this.#signalGroup("SIGKILL");
    return await this.status;
  }

  /** Kills the whole process group with SIGKILL (a crash) and waits for the exit. */
  async kill9(): Promise<Deno.CommandStatus> {
    this.#signalGroup("SIGKILL");
    return await this.status;
  }

  /** The last `lines` lines of the log file (for error messages). */
  async logTail(lines = 40): Promise<string> {
    try {
      const text = await Deno.readTextFile(this.logFile);
      return text.trimEnd().split("\n").slice(-lines).join("\n");
    } catch (error) {
      return `(no log: ${error instanceof Error ? error.message : error})`;
    }
  }

  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.pid, signal);
    } catch (error) {
      // The group is already gone.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * Starts `command` in a new session (its own process group) with stdin closed
 * and stdout/stderr appended to `options.logFile`.
 */
export async function spawnLogged(
  command: string,
  options: SpawnOptions,
): Promise<ManagedProcess> {
  const open = () => Deno.open(options.logFile, { append: true, create: true });
  const [out, err] = [await open(), await open()];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    out.close();
    err.close();
    throw error;
  }
  const output = Promise.all([
    child.stdout.pipeTo(out.writable),
    child.stderr.pipeTo(err.writable),
  ]);
  return new ManagedProcess(command, child, options.logFile, output);
}
