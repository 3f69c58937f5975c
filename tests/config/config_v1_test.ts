import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { splitBindAddress } from "../../lib/config/v1.ts";
import { configError } from "./helpers.ts";

const v1 = (bind: string, extra = "") =>
  parseConfig(
    `version: "1.0.0"
bind_address: ${JSON.stringify(bind)}
store: {enabled: false}
services: []
providers: []
jwt: {iss: i, exp: 1, secret: s}
logging: {level: info, format: json}
${extra}`,
    "v1.yaml",
    {},
  );

Deno.test("splitBindAddress() splits at the last colon and strips brackets", () => {
  assert.deepEqual(splitBindAddress("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
  assert.deepEqual(splitBindAddress("[::1]:3000"), { host: "::1", port: 3000 });
  assert.deepEqual(splitBindAddress("::1:3000"), { host: "::1", port: 3000 });
  assert.deepEqual(splitBindAddress("localhost:8080"), { host: "localhost", port: 8080 });
  assert.deepEqual(splitBindAddress("0.0.0.0:0"), { host: "0.0.0.0", port: 0 });
  assert.deepEqual(splitBindAddress("h:65535"), { host: "h", port: 65535 });
});

Deno.test("splitBindAddress() returns the original error texts", () => {
  assert.deepEqual(splitBindAddress("localhost"), {
    error: "bind_address must be in host:port format, got: localhost",
  });
  assert.deepEqual(splitBindAddress(":3000"), {
    error: "bind_address has empty host, got: :3000",
  });
  assert.deepEqual(splitBindAddress("[]:3000"), {
    error: "bind_address has empty host, got: []:3000",
  });
  for (const bad of ["h:abc", "h:", "h:65536", "h:-1", "h: 80", "h:8.0"]) {
    assert.deepEqual(splitBindAddress(bad), {
      error: `invalid port in bind_address: ${bad}`,
    });
  }
});

Deno.test("parseConfig() v1 migrates bind_address; metrics get their defaults", () => {
  for (
    const [bind, host, port] of [
      ["127.0.0.1:8080", "127.0.0.1", 8080],
      ["[::1]:3000", "::1", 3000],
      ["::1:3000", "::1", 3000],
      ["localhost:8080", "localhost", 8080],
    ] as const
  ) {
    const config = v1(bind);
    assert.equal(config.sourceVersion, "1.0.0");
    assert.deepEqual(config.server, { host, port });
    assert.deepEqual(config.metrics, { enabled: true, port: 9090 });
  }
  const ignored = v1("h:1", "metrics: {enabled: false, port: 7}\nserver: {port: 5}\n");
  assert.deepEqual(ignored.metrics, { enabled: true, port: 9090 });
  assert.deepEqual(ignored.server, { host: "h", port: 1 });
});

Deno.test("parseConfig() v1 bind_address errors say 'Error migrating v1 config' (checklist 11)", () => {
  for (
    const [bind, text] of [
      ["localhost", "bind_address must be in host:port format, got: localhost"],
      [":3000", "bind_address has empty host, got: :3000"],
      ["h:abc", "invalid port in bind_address: h:abc"],
    ]
  ) {
    const error = configError(() => v1(bind));
    assert.equal(error.message, `v1.yaml:2:15 bind_address: Error migrating v1 config: ${text}`);
  }
});

Deno.test("parseConfig() v1 requires bind_address; port 9090 collides with metrics", () => {
  const missing = configError(() =>
    parseConfig(
      'version: "1.0.0"\nserver: {port: 1}\nstore: {enabled: false}\n',
      "v1.yaml",
      {},
    )
  );
  // Every missing section is listed; bind_address comes first.
  assert.equal(missing.message.split("\n")[0], "v1.yaml:1:1 bind_address: is required");
  const collision = configError(() => v1("0.0.0.0:9090"));
  assert.equal(
    collision.message,
    "v1.yaml:2:15 bind_address: application port and metrics port are both 9090, they must be different",
  );
});

Deno.test("parseConfig() v1 and v2 both ignore jwt.aud; jwt.audience is the claim (issue 17)", () => {
  const jwt = (line: string) =>
    parseConfig(
      `version: "1.0.0"
bind_address: "127.0.0.1:8080"
providers: []
jwt: {iss: i, exp: 1, secret: s, ${line}}
logging: {level: info, format: json}
`,
      "v1.yaml",
      {},
    ).jwt;
  assert.equal(jwt("aud: my-api").audIgnored, true);
  assert.equal(jwt("aud: my-api").audience, undefined);
  assert.equal(jwt("aud: [a, b]").audience, undefined);
  assert.deepEqual(jwt("audience: [a, b]").audience, ["a", "b"]);
  assert.equal(jwt("audience: a").audIgnored, false);
  const v2 = parseConfig(
    `version: "2.0.0"\nserver: {port: 1}\nproviders: []\njwt: {iss: i, exp: 1, secret: s, aud: x}\nlogging: {level: info, format: json}\n`,
    "v2.yaml",
    {},
  ).jwt;
  assert.deepEqual([v2.audIgnored, v2.audience], [true, undefined]);
});
