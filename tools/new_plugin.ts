/**
 * Scaffolds a plugin: `deno task new-plugin provider|augmenter <name> [dir]`
 * writes `<dir>/<name>.ts` (the plugin), `<dir>/<name>_test.ts` (its test,
 * passing as generated, on `@authotron/plugin/testing`) and
 * `<dir>/<name>.config.yaml` (a config that serves it). `dir` defaults to
 * `plugins/` (relative to where the task was typed). A directory outside this repository also gets a `deno.json`
 * mapping `@authotron/plugin` to this checkout, so `deno test` and editors
 * resolve it there too. Existing files are never overwritten.
 *
 * @module
 */

import { relative, resolve } from "node:path";

/** The two kinds of plugin. */
export type PluginKind = "provider" | "augmenter";

const ROOT = new URL("../", import.meta.url).pathname;
const NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;

/** What {@link scaffoldPlugin} wrote, as paths. */
export interface ScaffoldResult {
  /** The plugin module. */
  readonly plugin: string;
  /** Its test. */
  readonly test: string;
  /** The config that serves it. */
  readonly config: string;
  /** The `deno.json` written for a directory outside the repository, if any. */
  readonly denoJson?: string;
}

/** Writes a plugin, its test and its config into `dir`; throws on a bad name or an existing file. */
export async function scaffoldPlugin(
  kind: PluginKind,
  name: string,
  dir: string,
): Promise<ScaffoldResult> {
  if (kind !== "provider" && kind !== "augmenter") {
    throw new Error(`the kind must be "provider" or "augmenter", not "${kind}"`);
  }
  if (!NAME.test(name)) {
    throw new Error(`the name must be lowercase letters, digits, - or _ (like "my-robots")`);
  }
  const base = name.replaceAll("-", "_");
  const target = resolve(dir);
  await Deno.mkdir(target, { recursive: true });
  const files: Record<string, string> = {
    [`${base}.ts`]: kind === "provider" ? providerSource(name) : augmenterSource(name),
    [`${base}_test.ts`]: kind === "provider" ? providerTest(base) : augmenterTest(base),
    [`${base}.config.yaml`]: configYaml(kind, name, base),
  };
  const outside = relative(ROOT, target).startsWith("..");
  if (outside && !(await exists(`${target}/deno.json`))) {
    const pkg = relative(target, `${ROOT}packages/plugin`);
    files["deno.json"] = JSON.stringify(
      {
        imports: {
          "@authotron/plugin": `${pkg}/mod.ts`,
          "@authotron/plugin/testing": `${pkg}/testing.ts`,
        },
        fmt: { lineWidth: 100 },
      },
      null,
      2,
    ) + "\n";
  }
  for (const file of Object.keys(files)) {
    if (await exists(`${target}/${file}`)) throw new Error(`${target}/${file} already exists`);
  }
  for (const [file, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${target}/${file}`, text, { createNew: true });
  }
  return {
    plugin: `${target}/${base}.ts`,
    test: `${target}/${base}_test.ts`,
    config: `${target}/${base}.config.yaml`,
    denoJson: files["deno.json"] === undefined ? undefined : `${target}/deno.json`,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function providerSource(name: string): string {
  return `/**
 * Provider "${name}": accepts \`Authorization: Bearer <token>\` for the tokens
 * listed in its options. Replace the lookup with your identity service
 * (use \`context.http\` for HTTP: it bounds, size-caps and classifies calls).
 *
 * @module
 */

import { defineProvider, OptionsError, timingSafeEqual } from "@authotron/plugin";

/** The options after parseOptions. */
export interface Options {
  /** Token → username. */
  readonly tokens: ReadonlyMap<string, string>;
  /** Roles of every user this provider accepts. */
  readonly roles: readonly string[];
}

export default defineProvider<Options>({
  scheme: "Bearer",

  // Pure, no I/O; also run by --check-config. Name the bad key in OptionsError.
  parseOptions(options) {
    const tokens = options.tokens;
    if (typeof tokens !== "object" || tokens === null || Array.isArray(tokens)) {
      throw new OptionsError(["tokens"], "expected a map of token → username");
    }
    const map = new Map<string, string>();
    for (const [token, username] of Object.entries(tokens)) {
      if (typeof username !== "string" || username === "") {
        throw new OptionsError(["tokens", token], "expected a username");
      }
      map.set(token, username);
    }
    const roles = options.roles ?? [];
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
      throw new OptionsError(["roles"], "expected a list of strings");
    }
    return { tokens: map, roles };
  },

  create({ tokens, roles }, context) {
    context.log.info("${name}.ready", "provider ready", { tokens: tokens.size });
    return {
      authenticate(credential) {
        let username: string | undefined;
        // Compare every token in constant time; never log the credential.
        for (const [token, user] of tokens) {
          if (timingSafeEqual(token, credential)) username ??= user;
        }
        return username === undefined ? undefined : { username, roles: [...roles] };
      },
    };
  },
});
`;
}

function augmenterSource(name: string): string {
  return `/**
 * Augmenter "${name}": gives every user of its realm the roles listed in its
 * options. Replace it with your lookup; return a patch, never change \`user\`.
 *
 * @module
 */

import { defineAugmenter, OptionsError } from "@authotron/plugin";

/** The options after parseOptions. */
export interface Options {
  /** Roles added to every user of the realm. */
  readonly roles: readonly string[];
}

export default defineAugmenter<Options>({
  // Pure, no I/O; also run by --check-config. Name the bad key in OptionsError.
  parseOptions(options) {
    const roles = options.roles;
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
      throw new OptionsError(["roles"], "expected a list of strings");
    }
    return { roles };
  },

  create({ roles }) {
    return {
      augment(user) {
        return user.username === "" ? undefined : { roles: [...roles] };
      },
    };
  },
});
`;
}

function providerTest(base: string): string {
  return `import { OptionsError } from "@authotron/plugin";
import { testProvider } from "@authotron/plugin/testing";
import plugin from "./${base}.ts";

const OPTIONS = { tokens: { "test-token-1": "robot" }, roles: ["machine"] };

function assertEquals(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(\`expected \${JSON.stringify(expected)}, got \${JSON.stringify(actual)}\`);
  }
}

Deno.test("${base}: accepts a listed token, rejects others, never logs a token", async () => {
  await using provider = await testProvider(plugin, OPTIONS, { realm: "machines" });
  const user = await provider.authenticate("test-token-1");
  assertEquals(user?.username, "robot");
  assertEquals(user?.realm, "machines");
  assertEquals(user?.roles, ["machine"]);
  assertEquals(await provider.authenticate("wrong"), undefined);
  provider.assertNotLogged("test-token-1");
});

Deno.test("${base}: a bad option names its key", async () => {
  try {
    await testProvider(plugin, { tokens: ["not", "a", "map"] });
    throw new Error("accepted bad options");
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    assertEquals(error.path, ["tokens"]);
  }
});
`;
}

function augmenterTest(base: string): string {
  return `import { OptionsError } from "@authotron/plugin";
import { testAugmenter } from "@authotron/plugin/testing";
import plugin from "./${base}.ts";

function assertEquals(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(\`expected \${JSON.stringify(expected)}, got \${JSON.stringify(actual)}\`);
  }
}

Deno.test("${base}: adds its roles after the user's own", async () => {
  await using augmenter = await testAugmenter(plugin, { roles: ["staff"] }, { realm: "demo" });
  const { user } = await augmenter.augment({ username: "alice", roles: ["user"] });
  assertEquals(user.roles, ["user", "staff"]);
});

Deno.test("${base}: a bad option names its key", async () => {
  try {
    await testAugmenter(plugin, { roles: "staff" });
    throw new Error("accepted bad options");
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    assertEquals(error.path, ["roles"]);
  }
});
`;
}

function configYaml(kind: PluginKind, name: string, base: string): string {
  const plugin = kind === "provider"
    ? `  - module: ./${base}.ts
    name: ${name}
    realm: machines
    tokens:
      change-me-robot-token: robot # token → username; keep real tokens out of git
    roles: [machine]
`
    : `augmenters:
  - module: ./${base}.ts
    name: ${name}
    realm: demo
    roles: [staff]
`;
  return `# A config that serves the ${kind} "${name}":
#   deno task check-config ${base}.config.yaml
#   AOT_CONFIG_PATH=${base}.config.yaml deno task start
version: "2.0.0"
server: { host: 127.0.0.1, port: 8080 }
metrics: { enabled: true, port: 9090 }
jwt: { iss: authotron-dev, exp: 3600, secret: dev-secret-change-me-to-32-bytes-or-more }
store: { enabled: false }
services: []
logging: { level: info, format: console }
providers:
  - type: plain
    name: local
    realm: demo
    users:
      - { username: alice, password: alice-password, roles: [user] }
${plugin}`;
}

if (import.meta.main) {
  const [kind, name, dir = "plugins"] = Deno.args;
  // `deno task` runs in the repository root; INIT_CWD is where it was typed.
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  try {
    const written = await scaffoldPlugin(kind as PluginKind, name ?? "", resolve(cwd, dir));
    // deno-lint-ignore no-console -- command-line tool output
    console.log(Object.values(written).filter(Boolean).map((p) => `wrote ${p}`).join("\n"));
  } catch (error) {
    // deno-lint-ignore no-console -- command-line tool output
    console.error(
      `${(error as Error).message}\nusage: deno task new-plugin provider|augmenter <name> [dir]`,
    );
    Deno.exit(2);
  }
}
