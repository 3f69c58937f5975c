/**
 * Container health check (the Deno image has no curl): fetches the URL given
 * as the first argument (default `http://127.0.0.1:8080/health`) and exits 0
 * on a 2xx answer within 3 seconds, 1 otherwise.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 tools/healthcheck.ts http://127.0.0.1:8080/health
 * ```
 *
 * @module
 */

const url = Deno.args[0] ?? "http://127.0.0.1:8080/health";
let healthy = false;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  await res.body?.cancel();
  healthy = res.ok;
} catch {
  healthy = false;
}
Deno.exit(healthy ? 0 : 1);
