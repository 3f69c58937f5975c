/**
 * The benchmark cases. Each declares what it needs from the tree (a file, or
 * a feature it probes for once the gateway runs); a case whose provider or
 * feature has not landed yet is skipped, not failed.
 *
 * @module
 */

import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { ROOT } from "./procs.ts";

/** Thrown by {@link BenchCase.prepare} when the running gateway lacks a feature. */
export class SkipCase extends Error {
  /** Names this error. */
  override readonly name = "SkipCase";
}

/** Fixtures shared by the cases (started once per run). */
export interface Fixtures {
  /** The JWKS URL of the local identity provider. */
  readonly jwksUrl: string;
  /** A valid RS256 access token signed by that provider. */
  readonly accessToken: string;
  /** `count` distinct valid RS256 access tokens (distinct `sub` and `jti`), signed once. */
  accessTokens(count: number): Promise<readonly string[]>;
}

/** One gateway configuration under load. */
export interface BenchCase {
  /** Short name: `floor`, `basic`, `jwt`, `store`, `unauthorized`, `basic-cold`, … */
  readonly name: string;
  /** The route loaded. */
  readonly path: string;
  /** The status every response must have. */
  readonly status: 200 | 401;
  /** A file (relative to the repository) the case needs, e.g. `providers/jwt.ts`. */
  readonly needs?: string;
  /**
   * Load this reference server (bench/baseline_server.ts) instead of the
   * gateway; `config` is then unused.
   */
  readonly reference?: "floor";
  /**
   * Load through this ingress running its shipped example config; the
   * reference is then the same ingress in front of a bare auth server, and
   * the new connections to the auth servers are counted.
   */
  readonly ingress?: "nginx" | "caddy";
  /** Gateway processes behind the ingress (default 1). */
  readonly processes?: number;
  /** Report the decision cache's hit rate (read from the gateway's `/metrics`). */
  readonly hitRate?: boolean;
  /**
   * Distinct `Authorization` values: each request carries one picked
   * uniformly at random (the reference gets the same requests).
   */
  distinct?(fixtures: Fixtures): Promise<readonly string[]>;
  /** The YAML after the common sections (`providers:`, `store:`, …). */
  config(fixtures: Fixtures, dir: string): string;
  /** The request headers, given the running gateway's base URL. */
  prepare(baseUrl: string, fixtures: Fixtures): Promise<Record<string, string>>;
}

/** The password of the benchmark's Basic user. */
export const BENCH_PASSWORD = "bench-password-0123456789";
const PASSWORD = BENCH_PASSWORD;
/** The `Authorization` of the benchmark's Basic user (`bench` on {@link PLAIN_PROVIDER}). */
export const BENCH_BASIC = `Basic ${btoa(`bench:${PASSWORD}`)}`;
const BASIC = BENCH_BASIC;
/** The `plain` provider (realm `bench`) of the Basic cases, as a `providers:` list item. */
export const PLAIN_PROVIDER = `  - name: local
    type: plain
    realm: bench
    users:
      - { username: alice, password: alice-password, roles: [reader] }
      - { username: bench, password: ${PASSWORD}, roles: [reader, writer, admin] }
      - { username: carol, password: carol-password, roles: [] }
`;

/** Users of the `many-users` case. */
export const MANY_USERS = 10_000;

function manyUser(i: number): { username: string; password: string } {
  return { username: `user${i}`, password: `password-${i}-0123456789` };
}

/** The `plain` provider of the `many-users` cases: {@link MANY_USERS} users, realm `bench`. */
function manyUsersProvider(): string {
  const users = Array.from({ length: MANY_USERS }, (_, i) => {
    const { username, password } = manyUser(i);
    return `      - { username: ${username}, password: ${password}, roles: [reader] }`;
  });
  return `providers:\n  - name: local\n    type: plain\n    realm: bench\n    users:\n${
    users.join("\n")
  }\n`;
}

/** The `Authorization` of `many-users` user `i`. */
function manyUserAuthorization(i: number): string {
  const { username, password } = manyUser(i);
  return `Basic ${btoa(`${username}:${password}`)}`;
}

/** The `Authorization` of every `many-users` user. */
function manyUsersAuthorizations(): Promise<string[]> {
  return Promise.resolve(Array.from({ length: MANY_USERS }, (_, i) => manyUserAuthorization(i)));
}

/** What the `many-users` cases share: each request one of the users, and the hit rate reported. */
const MANY_USERS_REQUESTS: Pick<
  BenchCase,
  "path" | "status" | "hitRate" | "distinct" | "prepare"
> = {
  path: "/authenticate",
  status: 200,
  hitRate: true,
  distinct: manyUsersAuthorizations,
  prepare: () => Promise.resolve({ authorization: manyUserAuthorization(0) }),
};

/** The common sections; `extra` adds providers and more; metrics only with `metricsPort`. */
export function gatewayYaml(
  port: number,
  extra: string,
  store = "{ enabled: false }",
  metricsPort?: number,
): string {
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16))
    .join("").padEnd(48, "0");
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: ${port} }
metrics: ${
    metricsPort === undefined
      ? "{ enabled: false, port: 9090 }"
      : `{ enabled: true, port: ${metricsPort} }`
  }
store: ${store}
services: []
jwt: { iss: authotron-bench, exp: 3600, secret: ${secret} }
logging: { level: warn, format: json }
${extra}`;
}

/** Every case, in the order they run. */
export const CASES: readonly BenchCase[] = [
  {
    name: "floor",
    path: "/authenticate",
    status: 200,
    reference: "floor",
    config: () => "",
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  {
    name: "basic",
    path: "/authenticate",
    status: 200,
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  {
    name: "jwt",
    path: "/authenticate",
    status: 200,
    needs: "providers/jwt.ts",
    config: ({ jwksUrl }) =>
      `providers:\n  - { name: idp, type: jwt, realm: bench, cert_uri: "${jwksUrl}", iam_realm: bench }\n`,
    prepare: (_, { accessToken }) => Promise.resolve({ authorization: `Bearer ${accessToken}` }),
  },
  {
    name: "store",
    path: "/authenticate",
    status: 200,
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    async prepare(baseUrl) {
      for (const [method, path] of [["POST", "/tokens"], ["GET", "/token"]]) {
        const res = await fetch(baseUrl + path, { method, headers: { authorization: BASIC } });
        const body = await res.text();
        if (!res.ok) continue;
        const token = (JSON.parse(body) as { token?: unknown }).token;
        if (typeof token === "string") return { authorization: `Bearer ${token}` };
      }
      throw new SkipCase("needs the token store: POST /tokens and GET /token gave no token");
    },
  },
  {
    name: "basic-cold",
    path: "/authenticate",
    status: 200,
    config: () => `auth: { decision_cache_ttl_ms: 0 }\nproviders:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  { name: "many-users", ...MANY_USERS_REQUESTS, config: () => manyUsersProvider() },
  {
    // The ceiling of `many-users`: the same users and requests, every decision cached
    // (a 60 s TTL; the warm-up alone asks for each user about five times).
    name: "many-users-warm",
    ...MANY_USERS_REQUESTS,
    config: () => `auth: { decision_cache_ttl_ms: 60000 }\n${manyUsersProvider()}`,
  },
  {
    name: "jwt-cold",
    path: "/authenticate",
    status: 200,
    needs: "providers/jwt.ts",
    config: ({ jwksUrl }) =>
      `auth: { decision_cache_ttl_ms: 0 }\nproviders:\n  - { name: idp, type: jwt, realm: bench, cert_uri: "${jwksUrl}", iam_realm: bench }\n`,
    distinct: (fixtures) => fixtures.accessTokens(5000).then((t) => t.map((x) => `Bearer ${x}`)),
    prepare: (_, { accessToken }) => Promise.resolve({ authorization: `Bearer ${accessToken}` }),
  },
  {
    name: "nginx",
    path: "/hello",
    status: 200,
    ingress: "nginx",
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  {
    name: "nginx-x2",
    path: "/hello",
    status: 200,
    ingress: "nginx",
    processes: 2,
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  {
    name: "caddy",
    path: "/hello",
    status: 200,
    ingress: "caddy",
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: BASIC }),
  },
  {
    name: "unauthorized",
    path: "/authenticate",
    status: 401,
    config: () => `providers:\n${PLAIN_PROVIDER}`,
    prepare: () => Promise.resolve({ authorization: `Basic ${btoa("bench:wrong-password")}` }),
  },
];

/** The store section of a case (only `store` enables it, in the case's temp dir). */
export function storeSection(name: string, dir: string): string {
  return name === "store" ? `{ enabled: true, path: "${dir}/tokens.kv" }` : "{ enabled: false }";
}

/** Why a case cannot run in this tree, or `undefined`. */
export function missing(benchCase: BenchCase): string | undefined {
  if (benchCase.needs === undefined) return undefined;
  try {
    Deno.statSync(ROOT + benchCase.needs);
    return undefined;
  } catch {
    return `needs ${benchCase.needs}`;
  }
}

/** A local identity provider: a JWKS server and a valid RS256 token it signed. */
export async function startIdentityProvider(): Promise<Fixtures & AsyncDisposable> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench-key", alg: "RS256", use: "sig" };
  const body = JSON.stringify({ keys: [jwk] });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(body, { headers: { "content-type": "application/json" } }),
  );
  const sign = (sub: string, jti?: string) => {
    const jwt = new SignJWT({
      scope: "openid profile",
      preferred_username: "bench",
      realm_access: { roles: ["reader", "writer"] },
      email: "bench@example.org",
    })
      .setProtectedHeader({ alg: "RS256", kid: "bench-key", typ: "JWT" })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime("2h");
    return (jti === undefined ? jwt : jwt.setJti(jti)).sign(privateKey);
  };
  const accessToken = await sign("0b8a6e3c-bench");
  const many: string[] = [];
  return {
    jwksUrl: `http://127.0.0.1:${server.addr.port}/jwks.json`,
    accessToken,
    async accessTokens(count) {
      while (many.length < count) many.push(await sign(`bench-${many.length}`, `${many.length}`));
      return many.slice(0, count);
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
