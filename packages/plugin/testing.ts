/**
 * Unit-test a provider or augmenter with `deno test`, no gateway process.
 *
 * {@link testProvider} and {@link testAugmenter} build a plugin from its module
 * and options exactly as the gateway does: the same run-time checks of the
 * default export, the same `parseOptions` call, a `create()` context with the
 * gateway's own upstream HTTP layer, caches and credential keys, and the same
 * checks of what `create()` returns. The returned harness calls
 * `authenticate`/`augment` with a per-call context bounded by a timeout and
 * checks the results as the gateway does (a user with a bad field throws
 * `InvalidUserError`, exactly where the gateway would reject it). Its logger
 * records every line, and every cache the plugin creates runs on a fake clock.
 *
 * @example
 * ```ts
 * import { testProvider } from "@authotron/plugin/testing";
 * import plugin from "./robots.ts";
 *
 * Deno.test("robots accepts its key", async () => {
 *   await using robots = await testProvider(plugin, { key: "k" }, { realm: "machines" });
 *   const user = await robots.authenticate("k");
 *   if (user?.username !== "robot") throw new Error("rejected");
 *   robots.assertNotLogged("k");
 * });
 * ```
 *
 * @module
 */

import {
  type Augmenter,
  type AugmenterModule,
  type CallContext,
  type LogAttributes,
  type PluginContext,
  type PluginLogger,
  type PluginOptions,
  type Provider,
  type ProviderModule,
  type ResolvedUser,
  UpstreamUnavailableError,
  type User,
  type UserPatch,
} from "./mod.ts";
import { createPluginServices } from "./_host/services.ts";
import { instanceProblem, moduleProblem, type PluginKind } from "./_host/shape.ts";
import { applyPatch, InvalidUserError, resolveUser } from "./_host/user.ts";

export { InvalidUserError };

/** A module or instance that does not fit the plugin contract (the gateway refuses to start). */
export class PluginContractError extends Error {
  /** Stable code, the same as the gateway's load error. */
  readonly code = "ERR_PLUGIN_LOAD";
  /** Creates the error with the gateway's own message. */
  constructor(message: string) {
    super(message);
    this.name = "PluginContractError";
  }
}

/** One recorded log call. */
export interface LogRecord {
  /** `debug`, `info`, `warn` or `error`. */
  readonly level: "debug" | "info" | "warn" | "error";
  /** The dotted event name. */
  readonly event: string;
  /** The human message. */
  readonly message: string;
  /** The structured attributes, if any. */
  readonly attributes?: LogAttributes;
}

/** A plugin logger that keeps every line in `records`. */
export interface RecordingLogger extends PluginLogger {
  /** Every line logged so far, oldest first. */
  readonly records: LogRecord[];
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (event: string, message: string, attributes?: LogAttributes): void => {
      records.push(
        attributes === undefined ? { level, event, message } : {
          level,
          event,
          message,
          attributes,
        },
      );
    };
  return { records, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A clock that moves only when told to; it drives every cache the plugin creates. */
export interface FakeClock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
}

/** Creates a {@link FakeClock} starting at `start` epoch milliseconds. */
export function fakeClock(start: number = Date.now()): FakeClock {
  let time = start;
  return {
    now: () => time,
    advance(ms: number): void {
      if (!(ms >= 0)) throw new RangeError("a clock only moves forward");
      time += ms;
    },
  };
}

/** How the plugin's config entry and the host around it look. */
export interface TestPluginInit {
  /** The entry's `name` (default `"test"`). */
  readonly name?: string;
  /** The entry's `realm` (default `"test"`). */
  readonly realm?: string;
  /** The entry's `module` or `type` label (default `"test"`). */
  readonly type?: string;
  /** The config file's URL, for plugins that resolve relative paths (default: the cwd's `config.yaml`). */
  readonly configUrl?: URL;
  /** Bound of every call, like `auth.timeout_in_ms` (default 3000). */
  readonly timeoutMs?: number;
  /** Start of the fake clock in epoch milliseconds (default: now). */
  readonly startTime?: number;
}

/** Per-call settings. */
export interface TestCallInit {
  /** The client's `X-Auth-Realm`, if any. */
  readonly realmHint?: string;
  /** Aborts the call early (the gateway aborts losers of the provider race). */
  readonly signal?: AbortSignal;
}

/** What both harnesses offer. */
export interface PluginHarness<I> extends AsyncDisposable {
  /** The live instance `create()` returned. */
  readonly instance: I;
  /** The options after `parseOptions`. */
  readonly options: unknown;
  /** The context `create()` received. */
  readonly context: PluginContext;
  /** The recording logger shared by `create()` and every call. */
  readonly logger: RecordingLogger;
  /** Every line the plugin logged, oldest first. */
  readonly logs: readonly LogRecord[];
  /** The fake clock of the plugin's caches. */
  readonly clock: FakeClock;
  /** The instance's `status()`, checked to be JSON (`undefined` when it has none). */
  status(): Record<string, unknown> | undefined;
  /** Throws when any log line (message or attribute) contains `secret`. */
  assertNotLogged(secret: string): void;
}

/** A provider under test. */
export interface ProviderHarness extends PluginHarness<Provider> {
  /**
   * Calls `authenticate` as the gateway does and returns the user completed
   * and checked as the gateway does (realm defaulted to the entry's realm),
   * or `undefined` for a rejection. Throws what the plugin throws,
   * {@link UpstreamUnavailableError} (`timeout`) when the call outlives
   * `timeoutMs`, and {@link InvalidUserError} for a user with a bad field.
   */
  authenticate(credential: string, init?: TestCallInit): Promise<ResolvedUser | undefined>;
}

/** What an augmenter did to a user. */
export interface AugmentResult {
  /** The patch it returned. */
  readonly patch: UserPatch | undefined;
  /** The user with the patch applied as the gateway applies it. */
  readonly user: ResolvedUser;
}

/** An augmenter under test. */
export interface AugmenterHarness extends PluginHarness<Augmenter> {
  /**
   * Calls `augment` with `user` completed as the gateway completes it (frozen:
   * an augmenter that mutates it throws) and applies the patch as the gateway does.
   */
  augment(user: User, init?: TestCallInit): Promise<AugmentResult>;
}

/**
 * Builds a provider from its module and options as the gateway does.
 * Throws {@link PluginContractError} for a module or instance that does not
 * fit the contract and whatever `parseOptions`/`create` throw (an
 * `OptionsError` names the bad key).
 */
export async function testProvider<O>(
  module: ProviderModule<O>,
  options: PluginOptions = {},
  init: TestPluginInit = {},
): Promise<ProviderHarness> {
  const built = await build<Provider>("provider", module, options, init);
  const realm = built.context.realm;
  return {
    ...built.harness,
    async authenticate(credential, callInit = {}) {
      const user = await bounded(
        init.timeoutMs,
        callInit,
        (ctx) => built.harness.instance.authenticate(credential, ctx),
        built.harness.logger,
      );
      return user === undefined ? undefined : resolveUser(user, realm);
    },
  };
}

/** Builds an augmenter from its module and options as the gateway does (see {@link testProvider}). */
export async function testAugmenter<O>(
  module: AugmenterModule<O>,
  options: PluginOptions = {},
  init: TestPluginInit = {},
): Promise<AugmenterHarness> {
  const built = await build<Augmenter>("augmenter", module, options, init);
  const realm = built.context.realm;
  return {
    ...built.harness,
    async augment(user, callInit = {}) {
      const resolved = deepFreeze(resolveUser(user, realm));
      const patch = await bounded(
        init.timeoutMs,
        callInit,
        (ctx) => built.harness.instance.augment(resolved, ctx),
        built.harness.logger,
      );
      return { patch, user: applyPatch(resolved, patch) };
    },
  };
}

async function build<I extends Provider | Augmenter>(
  kind: PluginKind,
  module: unknown,
  rawOptions: PluginOptions,
  init: TestPluginInit,
): Promise<{ harness: PluginHarness<I>; context: PluginContext }> {
  const problem = moduleProblem(kind, module);
  if (problem !== undefined) throw new PluginContractError(problem);
  const checked = module as ProviderModule | AugmenterModule;
  const options = checked.parseOptions === undefined
    ? rawOptions
    : checked.parseOptions(rawOptions);
  const clock = fakeClock(init.startTime);
  const services = createPluginServices({ now: clock.now });
  const logger = recordingLogger();
  const context: PluginContext = {
    name: init.name ?? "test",
    realm: init.realm ?? "test",
    type: init.type ?? "test",
    configUrl: init.configUrl ?? new URL("config.yaml", `file://${cwd()}/`),
    log: logger,
    http: services.http,
    createCache: services.createCache,
    credentialKey: services.credentialKey,
  };
  const instance = await checked.create(options as never, context);
  const wrong = instanceProblem(kind, instance);
  if (wrong !== undefined) throw new PluginContractError(wrong);
  const live = instance as I;
  const harness: PluginHarness<I> = {
    instance: live,
    options,
    context,
    logger,
    logs: logger.records,
    clock,
    status() {
      const status = live.status?.();
      if (status === undefined) return undefined;
      return JSON.parse(JSON.stringify(status));
    },
    assertNotLogged(secret) {
      if (secret === "") throw new RangeError("assertNotLogged needs a non-empty secret");
      for (const record of logger.records) {
        const text = `${record.event} ${record.message} ${safeJson(record.attributes)}`;
        if (text.includes(secret)) {
          throw new Error(`the plugin logged a secret in event "${record.event}"`);
        }
      }
    },
    async [Symbol.asyncDispose]() {
      await live[Symbol.asyncDispose]?.();
    },
  };
  return { harness, context };
}

/** Runs one call with a context whose signal aborts at the timeout (or with the caller's). */
async function bounded<T>(
  timeoutMs: number | undefined,
  init: TestCallInit,
  call: (ctx: CallContext) => Promise<T> | T,
  log: PluginLogger,
): Promise<T> {
  const limit = timeoutMs ?? 3000;
  const controller = new AbortController();
  const signal = init.signal === undefined
    ? controller.signal
    : AbortSignal.any([controller.signal, init.signal]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new UpstreamUnavailableError(`no answer within ${limit} ms`, "timeout"));
    }, limit);
  });
  try {
    const ctx: CallContext = init.realmHint === undefined
      ? { signal, log }
      : { signal, log, realmHint: init.realmHint };
    return await Promise.race([Promise.resolve().then(() => call(ctx)), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}

function cwd(): string {
  const process = (globalThis as { process?: { cwd?(): string } }).process;
  const deno = (globalThis as { Deno?: { cwd?(): string } }).Deno;
  try {
    return deno?.cwd?.() ?? process?.cwd?.() ?? "/";
  } catch {
    return "/";
  }
}
