/**
 * Reads the token and user collections of auth-o-tron's MongoDB store as
 * `mongoexport` writes them (spec 8.2): Extended JSON (relaxed or canonical),
 * one document per line, `--pretty`, or `--jsonArray`. Every document is
 * checked before anything is written; a malformed one is reported with its
 * line number.
 *
 * - users: `{_id, user_id: "<24 hex>", user_version, user: {…}}`, the user
 *   being `{version, username, realm, roles, attributes, scopes}` (spec 0);
 * - tokens: `{_id, user_id: "<24 hex>", token_version, token: {…}}`, the token
 *   being `{version, token_string: "<uuid>", scopes}`.
 *
 * @module
 */

import type { ResolvedUser } from "../plugin.ts";
import { isLegacyTokenShaped } from "./token_secret.ts";

/** One token of the original store, joined with its user document. */
export interface LegacyToken {
  /** Where its document starts (`file:line`). */
  readonly source: string;
  /** The token string clients send as `Bearer <token>` (a UUID). */
  readonly token: string;
  /** The stored user snapshot. */
  readonly user: ResolvedUser;
  /** Creation time from the document's ObjectId (epoch ms), when it has one. */
  readonly createdAt?: number;
}

/** The documents of one or more export files, checked. */
export interface ParsedExport {
  /** Tokens whose user was found, in file order. */
  readonly tokens: LegacyToken[];
  /** How many user documents were read. */
  readonly users: number;
  /** Every problem as `file:line: message`; nothing may be imported when this is not empty. */
  readonly errors: string[];
}

/** One export file: its name (for messages) and its text. */
export interface ExportFile {
  /** Shown in messages. */
  readonly name: string;
  /** The file's text. */
  readonly text: string;
}

interface RawDocument {
  readonly source: string;
  readonly value: unknown;
}

const HEX24 = /^[0-9a-f]{24}$/i;

/** A problem with one document. */
class DocumentError extends Error {}

/** The top-level JSON values of `text` (a stream of values, or one array's elements) with their lines. */
function splitValues(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let i = 0;
  let line = 1;
  const skipBlank = () => {
    while (i < text.length && /[\s,]/.test(text[i])) {
      if (text[i] === "\n") line++;
      i++;
    }
  };
  skipBlank();
  const inArray = text[i] === "[";
  if (inArray) i++;
  for (;;) {
    skipBlank();
    if (i >= text.length || (inArray && text[i] === "]")) break;
    const start = i;
    const startLine = line;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === "\n") line++;
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth <= 0) {
          i++;
          break;
        }
      } else if (depth === 0 && /[\s,]/.test(c)) break;
    }
    out.push({ line: startLine, text: text.slice(start, i) });
  }
  return out;
}

/**
 * Replaces the Extended JSON wrappers mongoexport writes (`$oid`,
 * `$numberInt`, `$numberLong`, `$numberDouble`, `$date`) by plain values;
 * any other `$` key is refused.
 */
function plain(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => plain(v, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value);
  const [key, inner] = entries[0] ?? [];
  if (entries.length === 1 && key?.startsWith("$")) {
    if (key === "$oid" && typeof inner === "string") return inner;
    if (["$numberInt", "$numberLong", "$numberDouble"].includes(key) && typeof inner === "string") {
      const n = Number(inner);
      if (inner.trim() !== "" && Number.isFinite(n)) return n;
    }
    if (key === "$date") {
      const date = plain(inner, path);
      const ms = typeof date === "number"
        ? date
        : typeof date === "string"
        ? Date.parse(date)
        : NaN;
      if (Number.isFinite(ms)) return ms;
    }
    throw new DocumentError(`${path}: unsupported Extended JSON value ${JSON.stringify(key)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = plain(v, path === "" ? k : `${path}.${k}`);
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function need<T>(ok: boolean, value: T, message: string): T {
  if (!ok) throw new DocumentError(message);
  return value;
}

function stringField(doc: Record<string, unknown>, key: string, path: string): string {
  const value = doc[key];
  return need(
    typeof value === "string" && value !== "",
    value as string,
    `${path}${key}: expected a non-empty string`,
  );
}

function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  need(isRecord(value), null, `${path}: expected an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = need(typeof v === "string", v as string, `${path}.${k}: expected a string`);
  }
  return out;
}

function listMap(value: unknown, path: string): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  need(isRecord(value), null, `${path}: expected an object of string lists`);
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const ok = Array.isArray(v) && v.every((s) => typeof s === "string");
    out[k] = need(ok, v as string[], `${path}.${k}: expected a list of strings`);
  }
  return out;
}

/** The `user` object of spec 0 as a resolved user. */
function readUser(value: unknown): ResolvedUser {
  need(isRecord(value), null, "user: expected an object");
  const user = value as Record<string, unknown>;
  if (user.version !== undefined && user.version !== 1) {
    throw new DocumentError(`user.version: expected 1, got ${JSON.stringify(user.version)}`);
  }
  const roles = user.roles;
  const rolesOk = Array.isArray(roles) && roles.every((r) => typeof r === "string");
  return {
    version: 1,
    username: stringField(user, "username", "user."),
    realm: stringField(user, "realm", "user."),
    roles: need(rolesOk, roles as string[], "user.roles: expected a list of strings"),
    attributes: stringMap(user.attributes, "user.attributes"),
    scopes: listMap(user.scopes, "user.scopes"),
  };
}

/** Creation time of a 24-hex ObjectId (its first four bytes are epoch seconds). */
function objectIdTime(id: unknown): number | undefined {
  return typeof id === "string" && HEX24.test(id) ? parseInt(id.slice(0, 8), 16) * 1000 : undefined;
}

/** Reads, checks and joins the documents of `files`. */
export function parseMongoExport(files: readonly ExportFile[]): ParsedExport {
  const errors: string[] = [];
  const raw: RawDocument[] = [];
  for (const file of files) {
    for (const { line, text } of splitValues(file.text)) {
      const source = `${file.name}:${line}`;
      try {
        raw.push({ source, value: plain(JSON.parse(text), "") });
      } catch (error) {
        const reason = error instanceof DocumentError ? error.message : "not valid JSON";
        errors.push(`${source}: ${reason}`);
      }
    }
  }
  const users = new Map<string, { source: string; user: ResolvedUser }>();
  const tokens: { source: string; userId: string; token: string; createdAt?: number }[] = [];
  for (const { source, value } of raw) {
    try {
      need(isRecord(value), null, "expected a document (an object)");
      const doc = value as Record<string, unknown>;
      const userId = stringField(doc, "user_id", "");
      need(HEX24.test(userId), null, "user_id: expected 24 hexadecimal characters");
      if ("user" in doc) {
        const user = readUser(doc.user);
        const seen = users.get(userId);
        if (seen !== undefined) {
          throw new DocumentError(`user_id ${userId} is also at ${seen.source}`);
        }
        users.set(userId, { source, user });
      } else if ("token" in doc) {
        need(isRecord(doc.token), null, "token: expected an object");
        const token = stringField(doc.token as Record<string, unknown>, "token_string", "token.");
        need(isLegacyTokenShaped(token), null, "token.token_string: expected a UUID");
        tokens.push({ source, userId, token, createdAt: objectIdTime(doc._id) });
      } else {
        throw new DocumentError("neither a user document (user) nor a token document (token)");
      }
    } catch (error) {
      if (!(error instanceof DocumentError)) throw error;
      errors.push(`${source}: ${error.message}`);
    }
  }
  const joined: LegacyToken[] = [];
  for (const { source, userId, token, createdAt } of tokens) {
    const owner = users.get(userId);
    if (owner === undefined) {
      errors.push(
        `${source}: no user document with user_id ${userId} (export the users collection too)`,
      );
      continue;
    }
    joined.push({
      source,
      token,
      user: owner.user,
      ...(createdAt === undefined ? {} : { createdAt }),
    });
  }
  return { tokens: joined, users: users.size, errors };
}
