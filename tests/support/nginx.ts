/**
 * Debian nginx for system tests, run in the foreground from a temp prefix:
 * `nginx -p $D -e $D/error.log -c $D/nginx.conf`. Relative paths in the
 * config (pid, logs, temp paths) resolve inside the prefix.
 *
 * ```ts
 * await using proxy = await startNginx(({ port }) =>
 *   nginxConfig(`server { listen 127.0.0.1:${port}; location / { return 200 "hi"; } }`)
 * );
 * await fetch(proxy.url);
 * ```
 *
 * @module
 */

import {
  freePort,
  type ManagedProcess,
  removeDir,
  requireBinary,
  run,
  spawnLogged,
  tempDir,
  waitForPort,
} from "./system.ts";

/** A running test nginx. */
export interface NginxServer {
  /** The port nginx listens on (127.0.0.1). */
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The prefix dir (holds nginx.conf, error.log, access.log). */
  dir: string;
  /** Stops nginx (SIGQUIT, graceful) and removes the prefix dir. */
  stop(): Promise<void>;
}

/** What a config builder gets: the chosen free port and the prefix dir. */
export interface NginxContext {
  /** A free port on 127.0.0.1 for the `listen` directive. */
  port: number;
  /** The prefix dir (absolute). */
  dir: string;
}

/**
 * A complete nginx.conf around `httpBody` (the inside of `http { }`, usually
 * `server` blocks): one worker, foreground, pid/logs/temp paths relative to
 * the prefix, error log at level info.
 */
export function nginxConfig(httpBody: string): string {
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `  ${kind}_temp_path tmp/${kind};`).join("\n");
  return `worker_processes 1;
daemon off;
pid nginx.pid;
error_log error.log info;
events { worker_connections 256; }
http {
  access_log access.log;
${temp}
  default_type application/octet-stream;
${httpBody}
}
`;
}

async function readLog(file: string): Promise<string> {
  return await Deno.readTextFile(file).catch(() => "(no error.log)");
}

/**
 * Starts nginx with the given nginx.conf text, or with the text a builder
 * returns for a free port. A plain text must contain `listen 127.0.0.1:PORT`
 * (the first one is waited for). The config is checked with `nginx -t` first;
 * errors quote error.log. Throws `MissingBinaryError` without nginx.
 */
export async function startNginx(
  conf: string | ((context: NginxContext) => string),
): Promise<NginxServer & AsyncDisposable> {
  const nginx = requireBinary("nginx");
  const dir = await tempDir("nginx");
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop("SIGQUIT", 10_000);
    await removeDir(dir);
  };
  try {
    // Workers run as `nobody` when we are root: they must reach tmp/.
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir(`${dir}/tmp`, { mode: 0o755 });
    const text = typeof conf === "string" ? conf : conf({ port: freePort(), dir });
    const listen = text.match(/(?:^|[\s;{}])listen\s+127\.0\.0\.1:(\d+)/);
    if (!listen) throw new Error("the nginx config has no `listen 127.0.0.1:PORT` directive");
    const port = Number(listen[1]);
    await Deno.writeTextFile(`${dir}/nginx.conf`, text);
    const globals = [
      /(?:^|[\s;{}])daemon\s/.test(text) ? "" : "daemon off;",
      /(?:^|[;{}\n])\s*pid\s/.test(text) ? "" : "pid nginx.pid;",
    ].join(" ").trim();
    // deno-fmt-ignore
    const args = [
      "-p", `${dir}/`, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`,
      ...(globals ? ["-g", globals] : []),
    ];
    await run(nginx, ["-t", "-q", ...args]).catch(async (error) => {
      throw new Error(`${error.message}\nerror.log:\n${await readLog(`${dir}/error.log`)}`);
    });
    proc = await spawnLogged(nginx, { args, logFile: `${dir}/stdout.log` });
    await waitForPort(port, 30_000, proc).catch(async (error) => {
      throw new Error(`${error.message}\nerror.log:\n${await readLog(`${dir}/error.log`)}`);
    });
    return { port, url: `http://127.0.0.1:${port}`, dir, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw new Error(`startNginx failed: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}
