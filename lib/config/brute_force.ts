/**
 * Reads `auth.brute_force` (docs/security.md, "Brute-force limits"): failure
 * limits per address+username pair, per address and per username, the
 * window and block durations, trusted networks and trusted proxies.
 *
 * @module
 */

import { parseCidr } from "../util/cidr.ts";
import type { BruteForceConfig } from "./types.ts";
import {
  describe,
  fail,
  field,
  type Read,
  readBoolean,
  readInteger,
  readList,
  readString,
  readTable,
} from "./read.ts";

/** Defaults of `auth.brute_force`. */
export const BRUTE_FORCE_DEFAULTS: BruteForceConfig = {
  enabled: true,
  maxFailures: 10,
  maxFailuresPerAddress: 100,
  maxFailuresPerUsername: 100,
  windowS: 60,
  blockS: 300,
  trustedNetworks: [],
  trustedProxies: ["127.0.0.1/32", "::1/128"],
};

const DAY = 86_400;
const readCount = readInteger(1, 1_000_000);
const readOptionalCount = readInteger(0, 1_000_000);
const readSeconds = readInteger(1, DAY);

const readCidrList: Read<string[]> = (ctx, value, path) =>
  readList(ctx, value, path).map((item, i) => {
    const text = readString(ctx, item, [...path, i]).trim();
    return parseCidr(text) === undefined
      ? fail(
        ctx,
        [...path, i],
        `expected an IP address or CIDR range such as 10.0.0.0/8, got ${
          describe(item, [...path, i])
        }`,
      )
      : text;
  });

/** Reads the optional `auth.brute_force` mapping. */
export const readBruteForce: Read<BruteForceConfig> = (ctx, value, path) => {
  const table = readTable(ctx, value, path);
  const d = BRUTE_FORCE_DEFAULTS;
  const at = (key: string) => [...path, key];
  return {
    enabled: field(ctx, table, at("enabled"), readBoolean, d.enabled),
    maxFailures: field(ctx, table, at("max_failures"), readCount, d.maxFailures),
    maxFailuresPerAddress: field(
      ctx,
      table,
      at("max_failures_per_address"),
      readCount,
      d.maxFailuresPerAddress,
    ),
    maxFailuresPerUsername: field(
      ctx,
      table,
      at("max_failures_per_username"),
      readOptionalCount,
      d.maxFailuresPerUsername,
    ),
    windowS: field(ctx, table, at("window_s"), readSeconds, d.windowS),
    blockS: field(ctx, table, at("block_s"), readSeconds, d.blockS),
    trustedNetworks: field(ctx, table, at("trusted_networks"), readCidrList, [
      ...d.trustedNetworks,
    ]),
    trustedProxies: field(ctx, table, at("trusted_proxies"), readCidrList, [
      ...d.trustedProxies,
    ]),
  };
};
