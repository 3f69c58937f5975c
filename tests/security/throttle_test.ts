/**
 * Brute-force limits in isolation (T04, T05, T06, T08): the failure tables,
 * address resolution behind a trusted proxy, CIDR matching, and the bound on
 * memory under a flood of unique usernames and addresses.
 */
import assert from "node:assert/strict";
import { cidrContains, formatIp, parseCidr, parseIp } from "../../lib/util/cidr.ts";
import { BRUTE_FORCE_DEFAULTS } from "../../lib/config/brute_force.ts";
import type { BruteForceConfig } from "../../lib/config/types.ts";
import { GatewayMetrics } from "../../lib/observability/metrics.ts";
import {
  AuthThrottle,
  FailureTable,
  MAX_THROTTLE_KEYS,
  resolveClientAddress,
} from "../../lib/auth/throttle.ts";
import { basicAuth } from "../support/gateway.ts";

function throttle(overrides: Partial<BruteForceConfig> = {}, maxKeys?: number) {
  let now = 1_000;
  const metrics = new GatewayMetrics({ version: "test", providers: [], augmenters: [] });
  const t = new AuthThrottle({ ...BRUTE_FORCE_DEFAULTS, ...overrides }, metrics, {
    now: () => now,
    maxKeys,
  });
  return {
    t,
    metrics,
    advance(ms: number) {
      now += ms;
    },
    /** Fails `n` times as `user` from `address`. */
    fail(address: string, user: string | undefined, n = 1) {
      const auth = user === undefined ? "Bearer garbage" : basicAuth(`${user}:wrong`);
      for (let i = 0; i < n; i++) {
        const gate = t.check(address, auth);
        assert.equal(gate.blocked, false, `attempt ${i + 1} of ${n} is not blocked yet`);
        t.failed(gate.blocked ? undefined : gate.keys);
      }
    },
    check(address: string | undefined, user?: string) {
      return t.check(address, user === undefined ? "Bearer x" : basicAuth(`${user}:pw`));
    },
  };
}

Deno.test("AuthThrottle.check() blocks an address+username pair after max_failures, and only that pair", () => {
  const h = throttle({ maxFailures: 3 });
  h.fail("10.0.0.1", "alice", 3);
  const blocked = h.check("10.0.0.1", "alice");
  assert.deepEqual(blocked, { blocked: true, reason: "pair", retryAfterS: 300 });
  assert.equal(h.check("10.0.0.1", "bob").blocked, false, "another user from the same address");
  assert.equal(h.check("10.0.0.2", "alice").blocked, false, "the same user from elsewhere");
  assert.match(h.metrics.render(), /authotron_auth_throttled_total\{reason="pair"\} 1\n/);
});

Deno.test("AuthThrottle.check() lifts a block after block_s and then allows max_failures again", () => {
  const h = throttle({ maxFailures: 2, blockS: 5 });
  h.fail("10.0.0.1", "alice", 2);
  h.advance(4_000);
  assert.deepEqual(h.check("10.0.0.1", "alice"), {
    blocked: true,
    reason: "pair",
    retryAfterS: 1,
  });
  h.advance(1_001);
  h.fail("10.0.0.1", "alice", 1); // not blocked: a fresh window after the block
  assert.equal(h.check("10.0.0.1", "alice").blocked, false);
});

Deno.test("AuthThrottle.failed() counts failures in a window: old failures expire", () => {
  const h = throttle({ maxFailures: 3, windowS: 10 });
  h.fail("10.0.0.1", "alice", 2);
  h.advance(10_001);
  h.fail("10.0.0.1", "alice", 2);
  assert.equal(h.check("10.0.0.1", "alice").blocked, false);
});

Deno.test("AuthThrottle.succeeded() forgets the pair's failures but not the address's", () => {
  const h = throttle({ maxFailures: 3, maxFailuresPerAddress: 5 });
  h.fail("10.0.0.1", "alice", 2);
  const gate = h.check("10.0.0.1", "alice");
  assert.equal(gate.blocked, false);
  h.t.succeeded(gate.blocked ? undefined : gate.keys);
  h.fail("10.0.0.1", "alice", 2);
  assert.equal(h.check("10.0.0.1", "alice").blocked, false, "pair count restarted");
  h.fail("10.0.0.1", "carol", 1); // the fifth failure of the address
  assert.deepEqual(h.check("10.0.0.1", "carol"), {
    blocked: true,
    reason: "address",
    retryAfterS: 300,
  });
});

Deno.test("AuthThrottle.check() blocks a spraying address (one attempt per user, T05) and garbage Bearer floods", () => {
  const h = throttle({ maxFailuresPerAddress: 50 });
  for (let i = 0; i < 50; i++) h.fail("10.0.0.9", `user${i}`);
  assert.equal(h.check("10.0.0.9", "someone").blocked, true);
  assert.equal(h.check("10.0.0.9").blocked, true, "Bearer from that address too");
  const b = throttle({ maxFailuresPerAddress: 20 });
  b.fail("10.0.0.8", undefined, 20);
  assert.deepEqual(b.check("10.0.0.8"), { blocked: true, reason: "address", retryAfterS: 300 });
  assert.equal(b.check("10.0.0.7").blocked, false);
});

Deno.test("AuthThrottle.check() blocks a username guessed from many addresses, temporarily (T04)", () => {
  const h = throttle({ maxFailures: 100, maxFailuresPerUsername: 30, blockS: 60 });
  for (let i = 0; i < 30; i++) h.fail(`10.1.0.${i}`, "alice");
  assert.deepEqual(h.check("10.2.0.1", "alice"), {
    blocked: true,
    reason: "username",
    retryAfterS: 60,
  });
  h.advance(60_001);
  assert.equal(h.check("10.2.0.1", "alice").blocked, false, "no permanent lockout");
  const off = throttle({ maxFailures: 100, maxFailuresPerUsername: 0 });
  for (let i = 0; i < 200; i++) off.fail(`10.1.0.${i % 250}`, "alice");
  assert.equal(off.check("10.2.0.1", "alice").blocked, false, "0 turns the username limit off");
});

Deno.test("AuthThrottle.check() never throttles trusted networks, a disabled config, or unknown addresses", () => {
  const h = throttle({
    maxFailures: 1,
    maxFailuresPerAddress: 1,
    trustedNetworks: ["10.9.0.0/16"],
  });
  for (let i = 0; i < 20; i++) h.fail("10.9.3.4", "alice");
  assert.equal(h.check("10.9.3.4", "alice").blocked, false);
  const off = throttle({ enabled: false, maxFailures: 1, maxFailuresPerAddress: 1 });
  for (let i = 0; i < 20; i++) off.fail("10.0.0.1", "alice");
  assert.equal(off.check("10.0.0.1", "alice").blocked, false);
  assert.deepEqual(off.t.sizes, { pairs: 0, addresses: 0, usernames: 0 });
  assert.deepEqual(h.check(undefined, "alice"), { blocked: false, keys: undefined });
});

Deno.test("AuthThrottle keeps at most MAX_THROTTLE_KEYS keys per table under 100 000 unique usernames and addresses (T08)", () => {
  const h = throttle();
  for (let i = 0; i < 100_000; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    h.fail(address, `garbage-${i}-${"x".repeat(i % 64)}`);
  }
  const { pairs, addresses, usernames } = h.t.sizes;
  assert.equal(pairs, MAX_THROTTLE_KEYS);
  assert.equal(addresses, MAX_THROTTLE_KEYS);
  assert.equal(usernames, MAX_THROTTLE_KEYS);
});

Deno.test("FailureTable evicts the least recently used key first", () => {
  const table = new FailureTable(2);
  table.fail("a", 0, 1, 1000, 1000);
  table.fail("b", 0, 1, 1000, 1000);
  table.fail("a", 1, 5, 1000, 1000); // touches a
  table.fail("c", 2, 1, 1000, 1000); // evicts b
  assert.equal(table.size, 2);
  assert.ok(table.blockedFor("a", 3) > 0);
  assert.equal(table.blockedFor("b", 3), 0);
  assert.ok(table.blockedFor("c", 3) > 0);
});

Deno.test("resolveClientAddress() trusts X-Real-IP only from a trusted proxy (T06)", () => {
  const proxies = ["127.0.0.1/32", "::1/128"];
  assert.equal(resolveClientAddress("127.0.0.1", "203.0.113.7", proxies), "203.0.113.7");
  assert.equal(resolveClientAddress("::1", "2001:db8::1", proxies), "2001:db8:0:0:0:0:0:1");
  assert.equal(resolveClientAddress("198.51.100.1", "203.0.113.7", proxies), "198.51.100.1");
  assert.equal(resolveClientAddress("127.0.0.1", "a", proxies), "127.0.0.1", "garbage header");
  assert.equal(resolveClientAddress("127.0.0.1", "1.2.3.4, 5.6.7.8", proxies), "127.0.0.1");
  assert.equal(resolveClientAddress("127.0.0.1", undefined, proxies), "127.0.0.1");
  assert.equal(resolveClientAddress("127.0.0.1", "203.0.113.7", []), "127.0.0.1");
  assert.equal(resolveClientAddress("::ffff:10.0.0.1", undefined, proxies), "10.0.0.1");
  assert.equal(resolveClientAddress(undefined, "203.0.113.7", proxies), undefined);
});

Deno.test("resolveClientAddress() answers the same when asked again, per trusted-proxy list", () => {
  const loopback = ["127.0.0.1/32"];
  const none: string[] = [];
  const cases: [string, string][] = [
    ["127.0.0.1", "203.0.113.7"],
    ["127.0.0.1", " 203.0.113.7 "],
    ["127.0.0.1", "::ffff:192.0.2.1"],
    ["127.0.0.1", "not an address"],
    ["198.51.100.1", "203.0.113.7"],
    ["127.0.0.1", `${"1".repeat(70)}`],
  ];
  const first = cases.map(([peer, real]) => [
    resolveClientAddress(peer, real, loopback),
    resolveClientAddress(peer, real, none),
  ]);
  // Asked again (now from the memo), in another order, with the other list first.
  const again = cases.toReversed().map(([peer, real]) => [
    resolveClientAddress(peer, real, loopback),
    resolveClientAddress(peer, real, none),
  ]).toReversed();
  assert.deepEqual(again, first);
  assert.deepEqual(first, [
    ["203.0.113.7", "127.0.0.1"],
    ["203.0.113.7", "127.0.0.1"],
    ["192.0.2.1", "127.0.0.1"],
    ["127.0.0.1", "127.0.0.1"],
    ["198.51.100.1", "198.51.100.1"],
    ["127.0.0.1", "127.0.0.1"],
  ]);
  // An equal list that is another array (a reloaded config) is resolved on its own.
  assert.equal(resolveClientAddress("127.0.0.1", "203.0.113.7", [...loopback]), "203.0.113.7");
});

Deno.test("parseCidr() and cidrContains() match IPv4, IPv6 and IPv4-mapped addresses", () => {
  const v4 = parseCidr("10.20.0.0/14")!;
  assert.ok(cidrContains(v4, parseIp("10.23.255.255")!));
  assert.ok(!cidrContains(v4, parseIp("10.24.0.0")!));
  assert.ok(cidrContains(v4, parseIp("::ffff:10.21.0.1")!));
  const v6 = parseCidr("2001:db8::/32")!;
  assert.ok(cidrContains(v6, parseIp("2001:db8:ffff::1")!));
  assert.ok(!cidrContains(v6, parseIp("2001:db9::1")!));
  assert.ok(!cidrContains(v6, parseIp("10.0.0.1")!));
  assert.ok(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("8.8.8.8")!));
  assert.equal(formatIp(parseIp("[::1]")!), "0:0:0:0:0:0:0:1");
  for (
    const bad of [
      "10.0.0.256",
      "10.0.0.0/33",
      "::1/129",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "host",
      "",
      "10.0.0.1/x",
    ]
  ) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});
