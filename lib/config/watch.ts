/**
 * `--watch-config`: calls back when the config file changes, debounced, so
 * that an editor's several writes (or a write-and-rename) cause one reload.
 * The file's directory is watched, so a file replaced by a rename (as editors
 * and Kubernetes ConfigMap updates do) is still seen.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";

/** A running watch. */
export interface ConfigWatch {
  /** Stops watching. */
  close(): void;
}

/** Calls `onChange` at most once per `debounceMs` quiet period after the file at `path` changes. */
export function watchConfigFile(
  path: string,
  onChange: () => void,
  debounceMs = 300,
): ConfigWatch {
  const file = resolve(path);
  const dir = dirname(file);
  const name = basename(file);
  const watcher = Deno.watchFs(dir, { recursive: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    for await (const event of watcher) {
      // A ConfigMap swaps a `..data` symlink: any change in the directory may be the file.
      const relevant = event.paths.some((p) => basename(p) === name || basename(p) === "..data");
      if (!relevant || event.kind === "access") continue;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    }
  })().catch(() => {});
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
