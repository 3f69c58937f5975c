// A username with CR/LF and ANSI escapes cannot forge or colour log lines,
// in either log format (security.md H03).
import assert from "node:assert/strict";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { authenticate } from "./helpers.ts";

// No ":" in it: Basic splits the username at the first colon.
const FORGED = "2026-01-01T00.00.00.000Z INFO  auth.request.authenticated  forged admin";
const EVIL = `mallory\r\n${FORGED}\u001b[2J\u001b[31m\u2028"}`;
const YAML_EVIL = JSON.stringify(EVIL); // a JSON string is a valid YAML double-quoted scalar

function gatewayConfig(format: "json" | "console"): string {
  return testConfig(
    `providers:
  - type: plain
    name: local
    realm: default
    users:
      - { username: ${YAML_EVIL}, password: evil-pw, roles: ["r1\\nr2"] }
`,
    { logging: `{ level: debug, format: ${format} }` },
  );
}

for (const format of ["json", "console"] as const) {
  Deno.test(`log injection: a CR/LF/ANSI username stays inside one ${format} line`, async () => {
    await using gw = await startGateway(gatewayConfig(format));
    assert.equal((await authenticate(gw.url, basicAuth(`${EVIL}:evil-pw`))).status, 200);
    assert.equal((await authenticate(gw.url, basicAuth(`${EVIL}:wrong`))).status, 401);
    const authenticated = gw.logs.filter((l) => l.includes("auth.request.authenticated"));
    assert.equal(authenticated.length, 1, "exactly one authenticated event, no forged one");
    for (const line of gw.logs) {
      assert.ok(!/[\r\n\u2028\u2029]/.test(line), `line break inside a line: ${line}`);
      assert.ok(!line.includes("\u001b"), `raw ESC in a line: ${JSON.stringify(line)}`);
      assert.ok(!line.startsWith(FORGED));
    }
    const [line] = authenticated;
    if (format === "json") {
      const event = JSON.parse(line);
      assert.equal(event.attributes.username, EVIL, "the value round-trips exactly");
      assert.equal(event.attributes.roles, "r1\nr2");
    } else {
      assert.ok(line.includes(String.raw`username="mallory\r\n2026-01-01T00.00`), line);
      assert.ok(line.includes(String.raw`\u001b[2J`), line);
      assert.ok(line.includes(String.raw`\u2028\"}"`), line);
    }
  });
}
