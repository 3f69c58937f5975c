/**
 * The gateway every ingress test puts behind its proxy: a Basic provider
 * (realm `demo`), a Bearer API-key provider from examples/plugins (realm
 * `robots`) and a Bearer provider whose identity service is down (realm
 * `partners`), so one config shows 200, 401 and 503.
 *
 * @module
 */

import { startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp_proxy.ts";

const STATIC_KEYS = new URL("../../examples/plugins/static_api_keys.ts", import.meta.url).href;
const TEST_BEARER = new URL("../fixtures/plugins/test_bearer.ts", import.meta.url).href;

/** `jwt.secret` of {@link testConfig}: what backends verify the gateway's JWT with. */
export const JWT_SECRET = "test-secret-that-is-long-enough-32b";
/** `jwt.iss` of {@link testConfig}. */
export const JWT_ISSUER = "authotron-test";
/** The API key the `robots` provider accepts (as user `ci-robot`). */
export const ROBOT_KEY = "robot-key-0123456789abcdef";
/** The gateway's `WWW-Authenticate` for this config. */
export const CHALLENGE = 'Basic realm="demo", Bearer realm="robots", Bearer realm="partners"';

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `auth:` and `providers:` sections of the ingress test gateway. */
export async function ingressProviders(): Promise<string> {
  return `
auth: { timeout_in_ms: 3000 }
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: alice, password: alice-password, roles: [user] }
  - module: ${STATIC_KEYS}
    name: robots
    realm: robots
    keys:
      - { sha256: "${await sha256Hex(ROBOT_KEY)}", username: ci-robot, roles: [deployer] }
  - module: ${TEST_BEARER}
    name: partner-idp
    realm: partners
    mode: unavailable
`;
}

/** Serves the ingress test gateway on 127.0.0.1. */
export async function startIngressGateway(): Promise<TestGateway> {
  return await startGateway(testConfig(await ingressProviders()));
}

/** Two ingress test gateways, each behind a TCP proxy that counts the connections made to it. */
export interface CountedReplicas extends AsyncDisposable {
  /** The two gateways. */
  readonly gateways: readonly [TestGateway, TestGateway];
  /** `host:port` of each proxy: what the ingress sends requests to. */
  readonly targets: string[];
  /** Connections the ingress opened to either replica so far. */
  connections(): number;
}

/** Starts two ingress test gateways behind connection-counting TCP proxies. */
export async function startCountedReplicas(): Promise<CountedReplicas> {
  const gateways = [await startIngressGateway(), await startIngressGateway()] as const;
  const proxies: TcpProxy[] = gateways.map((gw) => startTcpProxy(Number(new URL(gw.url).port)));
  return {
    gateways,
    targets: proxies.map((p) => `127.0.0.1:${p.port}`),
    connections: () => proxies.reduce((sum, p) => sum + p.connections, 0),
    async [Symbol.asyncDispose]() {
      for (const proxy of proxies) await proxy[Symbol.asyncDispose]();
      for (const gw of gateways) await gw[Symbol.asyncDispose]();
    },
  };
}

/** The ingress test gateway's config as a file for `main.ts`, serving on `port`. */
export async function ingressConfigFile(port: number): Promise<string> {
  return testConfig(await ingressProviders(), { logging: "{ level: warn, format: json }" })
    .replace("server: { host: 127.0.0.1, port: 0 }", `server: { host: 127.0.0.1, port: ${port} }`)
    .replace("metrics: { enabled: true, port: 0 }", "metrics: { enabled: false, port: 9090 }");
}
