/**
 * Copies the long-lived tokens of auth-o-tron's MongoDB store into this
 * gateway's configured store (Deno KV or PostgreSQL), so users keep the
 * tokens they have. Export both collections with `mongoexport` first:
 *
 * ```sh
 * mongoexport --uri "$MONGO_URI" --collection users  --out users.json
 * mongoexport --uri "$MONGO_URI" --collection tokens --out tokens.json
 * AOT_CONFIG_PATH=/etc/authotron/config.yaml npx -y deno@2.9.6 task import-tokens users.json tokens.json
 * ```
 *
 * Every document is checked first; any malformed one is reported as
 * `file:line: …` and nothing is imported (exit 1). A rerun skips tokens
 * already stored. `--ttl <seconds>` sets how long imported tokens stay valid
 * (default `store.max_ttl`; the original's tokens never expire).
 *
 * @module
 */

import { configPathFromEnv, loadConfig } from "../lib/config/load.ts";
import type { Config } from "../lib/config/types.ts";
import { errorMessage } from "../lib/util/errors.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import { openPostgresStore } from "../lib/store/postgres_store.ts";
import { parseMongoExport } from "../lib/store/mongo_export.ts";
import { importLegacyTokens } from "../lib/store/token_import.ts";
import type { TokenStore } from "../lib/store/token_store.ts";

const USAGE = "usage: deno task import-tokens [--ttl SECONDS] FILE... " +
  "(mongoexport output of the users and tokens collections; the store is AOT_CONFIG_PATH's)";

function fail(message: string, code = 1): never {
  // deno-lint-ignore no-console -- command-line tool output
  console.error(message);
  Deno.exit(code);
}

function say(message: string): void {
  // deno-lint-ignore no-console -- command-line tool output
  console.log(message);
}

/** The files and the `--ttl` value from argv. */
function parseArgs(args: string[]): { files: string[]; ttlS?: number } {
  const files: string[] = [];
  let ttlS: number | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--ttl") {
      ttlS = Number(args[++i]);
      if (!Number.isSafeInteger(ttlS) || ttlS < 1) {
        fail(`--ttl: expected whole seconds\n${USAGE}`, 2);
      }
    } else if (args[i].startsWith("-")) {
      fail(`unknown option ${args[i]}\n${USAGE}`, 2);
    } else {
      files.push(args[i]);
    }
  }
  if (files.length === 0) fail(USAGE, 2);
  return { files, ...(ttlS === undefined ? {} : { ttlS }) };
}

async function openStore(config: Config): Promise<TokenStore> {
  const { store } = config;
  if (!store.enabled) {
    fail(`${config.file}: store.enabled is false; set store.enabled: true (and store.type) first`);
  }
  if (store.type === "deno-kv") return await openKvStore(store.path);
  return await openPostgresStore(store.uri!, {
    timeoutMs: config.auth.timeoutInMs,
    onDeferred: (error) => {
      throw error;
    },
  });
}

const { files, ttlS } = parseArgs(Deno.args);
const texts = await Promise.all(files.map(async (name) => {
  try {
    return { name, text: await Deno.readTextFile(name) };
  } catch (error) {
    return fail(`${name}: ${errorMessage(error)}`);
  }
}));
const parsed = parseMongoExport(texts);
if (parsed.errors.length > 0) {
  fail(
    [...parsed.errors, `${parsed.errors.length} malformed document(s); nothing was imported`].join(
      "\n",
    ),
  );
}
const env = Deno.env.toObject();
let config: Config;
try {
  config = await loadConfig(configPathFromEnv(env), env);
} catch (error) {
  fail(`Error loading configuration: ${errorMessage(error)}`);
}
let store: TokenStore;
try {
  store = await openStore(config);
} catch (error) {
  fail(`token store: ${errorMessage(error)}`);
}
try {
  const counts = await importLegacyTokens(store, parsed.tokens, {
    ttlMs: (ttlS ?? config.store.maxTtl) * 1000,
  });
  say(
    `read ${parsed.users} user(s) and ${parsed.tokens.length} token(s); ` +
      `imported ${counts.imported}, already present ${counts.alreadyPresent} ` +
      `(${store.backend} store)`,
  );
} catch (error) {
  fail(`token store: ${errorMessage(error)} (tokens written so far stay; rerun to finish)`);
} finally {
  await store.close();
}
