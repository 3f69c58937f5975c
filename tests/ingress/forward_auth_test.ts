/**
 * Traefik ForwardAuth and Envoy ext_authz (HTTP service), EMULATED: these
 * tests run neither proxy; they send a real gateway the exact requests each
 * one sends to its auth service (per Traefik's pkg/middlewares/auth/forward.go
 * and Envoy's ext_authz HTTP client) and check the answers they act on.
 */
import assert from "node:assert/strict";
import { jwtVerify } from "jose";
import { EXT_AUTHZ_METHODS } from "../../lib/http/ext_authz_routes.ts";
import { basicAuth, type TestGateway } from "../support/gateway.ts";
import {
  CHALLENGE,
  JWT_ISSUER,
  JWT_SECRET,
  ROBOT_KEY,
  startIngressGateway,
} from "./ingress_gateway.ts";

/** The headers Traefik's ForwardAuth adds to a copy of the client's headers. */
function traefikHeaders(client: Record<string, string>, method = "POST"): Headers {
  return new Headers({
    ...client,
    "user-agent": "curl/8.5.0",
    accept: "*/*",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-method": method,
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
    "x-forwarded-uri": "/v1/items?page=2",
  });
}

/** Envoy's ext_authz HTTP request: original method, prefixed path, no body, allowed headers. */
function envoyRequest(
  gw: TestGateway,
  method: string,
  originalPath: string,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${gw.url}/ext_authz${originalPath}`, {
    method,
    headers: {
      ...headers,
      "content-length": "0",
      "x-forwarded-proto": "https",
      "x-request-id": "0b9a4a9e-8a3c-4f5e-9d5b-6f1c2b3a4d5e",
      "x-envoy-expected-rq-timeout-ms": "4000",
    },
  });
}

async function verifiedUser(res: Response): Promise<string> {
  const header = res.headers.get("authorization") ?? "";
  assert.match(header, /^Bearer /);
  const { payload } = await jwtVerify(header.slice(7), new TextEncoder().encode(JWT_SECRET), {
    algorithms: ["HS256"],
    issuer: JWT_ISSUER,
  });
  return String(payload.username);
}

Deno.test("Traefik ForwardAuth: GET /authenticate with X-Forwarded-* answers 200 + JWT, 401, 503", async () => {
  await using gw = await startIngressGateway();
  const ok = await fetch(`${gw.url}/authenticate`, {
    headers: traefikHeaders({ authorization: basicAuth("alice:alice-password") }),
  });
  await ok.body?.cancel();
  assert.equal(ok.status, 200);
  assert.equal(await verifiedUser(ok), "alice");

  // A `headers` middleware ahead of forwardAuth sets the router's realm.
  const robot = await fetch(`${gw.url}/authenticate`, {
    headers: traefikHeaders({ authorization: `Bearer ${ROBOT_KEY}`, "x-auth-realm": "robots" }),
  });
  await robot.body?.cancel();
  assert.equal(await verifiedUser(robot), "ci-robot");

  const denied = await fetch(`${gw.url}/authenticate`, {
    headers: traefikHeaders({ authorization: basicAuth("alice:nope") }),
  });
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), CHALLENGE);
  assert.equal(denied.headers.get("authorization"), null);
  assert.equal(await denied.text(), '{"error": "Unauthorized access"}');

  const outage = await fetch(`${gw.url}/authenticate`, {
    headers: traefikHeaders({ authorization: "Bearer partner-token" }),
  });
  await outage.body?.cancel();
  assert.equal(outage.status, 503);
  assert.equal(outage.headers.get("retry-after"), "5");
});

Deno.test("Traefik ForwardAuth with preserveRequestMethod needs the /ext_authz address", async () => {
  await using gw = await startIngressGateway();
  const headers = traefikHeaders({ authorization: basicAuth("alice:alice-password") }, "DELETE");
  const strict = await fetch(`${gw.url}/authenticate`, { method: "DELETE", headers });
  await strict.body?.cancel();
  assert.equal(strict.status, 405);
  const compat = await fetch(`${gw.url}/ext_authz/`, { method: "DELETE", headers });
  await compat.body?.cancel();
  assert.equal(compat.status, 200);
  assert.equal(await verifiedUser(compat), "alice");
});

Deno.test("Envoy ext_authz: /ext_authz<path> answers like /authenticate for any method", async () => {
  await using gw = await startIngressGateway();
  const alice = { authorization: basicAuth("alice:alice-password"), host: "api.example.com" };
  for (const method of [...EXT_AUTHZ_METHODS, "HEAD"]) {
    for (const path of ["/", "/v1/items?page=2", "/v1/a/b/c", "/p/%ZZ", "/x//..;/y"]) {
      const res = await envoyRequest(gw, method, path, alice);
      const body = await res.text();
      assert.equal(res.status, 200, `${method} ${path}`);
      assert.equal(await verifiedUser(res), "alice");
      assert.equal(body, method === "HEAD" ? "" : "Authenticated successfully");
    }
  }
});

Deno.test("Envoy ext_authz: denials carry the challenge, outages 503, realms from headers_to_add", async () => {
  await using gw = await startIngressGateway();
  for (
    const headers of [
      {} as Record<string, string>,
      { authorization: basicAuth("alice:nope") },
      { authorization: "Bearer" },
      // headers_to_add sets the route's realm, overriding the client's.
      { authorization: basicAuth("alice:alice-password"), "x-auth-realm": "robots" },
    ]
  ) {
    const res = await envoyRequest(gw, "POST", "/p/%ZZ", headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.headers.get("www-authenticate"), CHALLENGE);
    assert.equal(res.headers.get("authorization"), null);
    await res.body?.cancel();
  }
  const outage = await envoyRequest(gw, "PUT", "/v1/items", {
    authorization: "Bearer partner-token",
  });
  await outage.body?.cancel();
  assert.equal(outage.status, 503);
  assert.equal(outage.headers.get("retry-after"), "5");
  // Envoy always sends <path_prefix>/...: the bare prefix is not a route.
  const bare = await envoyRequest(gw, "GET", "", {
    authorization: basicAuth("alice:alice-password"),
  });
  await bare.body?.cancel();
  assert.equal(bare.status, 404);
});
