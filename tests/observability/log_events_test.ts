// The spec 11 events a real gateway emits for startup, authentication,
// augmenters and throttled noise (checklist rows 139, 142-144).
import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { authenticate } from "./helpers.ts";

type Event = {
  severityText: string;
  body: string;
  resource: Record<string, string>;
  attributes: Record<string, unknown>;
};

function events(logs: string[], name: string): Event[] {
  return logs.map((l) => JSON.parse(l) as Event).filter((e) => e.attributes["event.name"] === name);
}

Deno.test("log events: startup, request, augmenter and throttled events of spec 11", async () => {
  const gw = await startGateway(testConfig(`providers:
  - type: plain
    name: local
    realm: default
    users: [{ username: alice, password: events-pw, roles: [reader] }]
augmenters:
  - type: plain
    name: legacy
    realm: default
    roles: { auditor: [alice] }
`));
  try {
    assert.equal((await authenticate(gw.url, basicAuth("alice:events-pw"))).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await authenticate(gw.url, undefined)).status, 401);
  } finally {
    await gw.running.shutdown();
    await Deno.remove(gw.dir, { recursive: true });
  }
  const { logs } = gw;
  for (const line of logs) {
    const event = JSON.parse(line) as Event;
    assert.deepEqual(event.resource, { "service.name": "authotron", "service.version": VERSION });
    assert.match(String(event.attributes["event.name"]), /^[a-z_]+\.[a-z_.]+$/);
  }
  const one = (name: string) => {
    const found = events(logs, name);
    assert.equal(found.length, 1, `${name}: ${found.length} events`);
    return found[0];
  };
  assert.equal(one("providers.plain.initialization").attributes.name, "local");
  assert.equal(one("augmenters.plain.initialization").attributes.name, "legacy");
  assert.equal(one("augmenters.plain.deprecation").severityText, "WARN");
  assert.equal(one("startup.server.listening").attributes.host, "127.0.0.1");
  assert.equal(typeof one("startup.metrics.listening").attributes.port, "number");
  const started = events(logs, "auth.request.started");
  assert.equal(started.length, 4);
  assert.equal(started[0].severityText, "DEBUG");
  assert.equal(started[0].attributes.client_ip, "127.0.0.1");
  assert.equal(started[0].attributes.realm_filter, "none");
  const authenticated = one("auth.request.authenticated");
  assert.equal(authenticated.severityText, "INFO");
  assert.equal(authenticated.attributes.username, "alice");
  assert.equal(authenticated.attributes.realm, "default");
  assert.equal(authenticated.attributes.roles, "reader,auditor");
  assert.equal(authenticated.attributes.roles_count, 2);
  assert.equal(one("augmenters.plain.roles_added").attributes.roles, "auditor");
  assert.equal(one("auth.provider.success").attributes.provider, "local");
  const missing = one("auth.header.missing"); // throttled: 3 requests, 1 event
  assert.equal(missing.attributes.suppressed_count, 0);
  one("shutdown.started");
  one("shutdown.finished");
});
