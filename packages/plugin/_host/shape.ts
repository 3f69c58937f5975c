/**
 * The run-time checks of the plugin contract: the shape of a module's default
 * export and of the instance its `create()` returns. The gateway's loader and
 * `@authotron/plugin/testing` both use these, so a plugin that passes its
 * tests passes the gateway's checks.
 *
 * @module
 */

/** Which contract a module is checked against. */
export type PluginKind = "provider" | "augmenter";

/** What is wrong with a module's default export, or `undefined` when it fits `kind`. */
export function moduleProblem(kind: PluginKind, module: unknown): string | undefined {
  return kind === "provider" ? providerShape(module) : augmenterShape(module);
}

/** What is wrong with the value `create()` returned, or `undefined` when it fits `kind`. */
export function instanceProblem(kind: PluginKind, instance: unknown): string | undefined {
  const method = kind === "provider" ? "authenticate" : "augment";
  return typeof (instance as Record<string, unknown> | null)?.[method] === "function"
    ? undefined
    : `create() must return an object with an ${method}() method`;
}

function providerShape(module: unknown): string | undefined {
  if (typeof module !== "object" || module === null) {
    return "the default export must be a provider object { scheme, create }";
  }
  const m = module as Record<string, unknown>;
  if (m.scheme !== "Basic" && m.scheme !== "Bearer") {
    return `the default export's scheme must be "Basic" or "Bearer"`;
  }
  return commonShape(m);
}

function augmenterShape(module: unknown): string | undefined {
  if (typeof module !== "object" || module === null) {
    return "the default export must be an augmenter object { create }";
  }
  const m = module as Record<string, unknown>;
  if (m.serial !== undefined && typeof m.serial !== "boolean") {
    return "the default export's serial must be a boolean";
  }
  return commonShape(m);
}

function commonShape(m: Record<string, unknown>): string | undefined {
  if (typeof m.create !== "function") {
    return "the default export must have a create() function";
  }
  if (
    m.optionKeys !== undefined &&
    !(Array.isArray(m.optionKeys) && m.optionKeys.every((k) => typeof k === "string"))
  ) {
    return "the default export's optionKeys must be a list of strings";
  }
  if (m.parseOptions !== undefined && typeof m.parseOptions !== "function") {
    return "the default export's parseOptions must be a function";
  }
  return undefined;
}
