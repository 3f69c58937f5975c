/**
 * Secret-leak cases for the vendor API-key providers (`ecmwf-api`,
 * `efas-api`): the key travels in the upstream URL's query, so every failure
 * that could quote the URL (500, 403, timeout, connection refused, a 2xx
 * without a user) is driven.
 *
 * @module
 */

import { faults, json, startIdentityUpstream } from "../support/identity_upstream.ts";
import { closedPort } from "./helpers.ts";
import { type LeakCase, type Step, urlSecrets } from "./leak_case.ts";

/** Keys by behaviour; the upstream answers by the marker inside the key. */
function keys(prefix: string) {
  return {
    // b64token characters that need URL-encoding (ecmwf-api/efas-api send nothing else upstream)
    good: `${prefix}-good+key/ok~frag+9c1d=`,
    forbidden: `${prefix}-forbidden-77b2e4`,
    boom: `${prefix}-boom-5e6d01`,
    hang: `${prefix}-hang-0c1d9a`,
    odd: `${prefix}-odd-user-3f2a88`,
    refused: `${prefix}-refused-8a8b7c`,
  };
}

type Keys = ReturnType<typeof keys>;

/**
 * The traffic for `realm`. With `deadToo` the unreachable instance answers
 * in the same realm (efas-api filters on `efas` whatever its entry says), so
 * every verdict but a success becomes 503.
 */
function steps(k: Keys, realm: string, deadToo = false): Step[] {
  const bearer = (token: string) => `Bearer ${token}`;
  const refusal = deadToo ? 503 : 401;
  return [
    { authorization: bearer(k.good), realm, status: 200 },
    { authorization: bearer(k.good), realm, status: 200 }, // from the verdict cache
    { authorization: bearer(k.forbidden), realm, status: refusal },
    { authorization: bearer(k.forbidden), realm, status: refusal }, // negative cache
    { authorization: bearer(k.boom), realm, status: 503 },
    { authorization: bearer(k.hang), realm, status: 503 },
    { authorization: bearer(k.odd), realm, status: refusal },
    { authorization: bearer(k.refused), realm: deadToo ? realm : "dead", status: 503 },
  ];
}

function startVendor(path: string, k: Keys, user: (token: string) => Record<string, unknown>) {
  return startIdentityUpstream((req) => {
    if (req.path !== path) return faults.status(404);
    const token = req.query.get("token") ?? "";
    if (token === k.good) return json(user(token));
    if (token === k.boom) return faults.status(500);
    if (token === k.hang) return faults.hang(req);
    if (token === k.odd) return json({ email: "odd@example.int" });
    return json({ message: "Invalid API key" }, 403);
  });
}

/** `ecmwf-api`: GET <uri>/who-am-i?token=<key>. */
export const ECMWF_API_CASE: LeakCase = {
  name: "ecmwf-api (key in the query: 200, 403, 500, timeout, refused, no uid)",
  covers: ["providers/ecmwf-api"],
  async setup() {
    const k = keys("ecmwf-api-key");
    const up = startVendor("/v1/who-am-i", k, () => ({ uid: "adam", email: "adam@example.int" }));
    const dead = `http://127.0.0.1:${await closedPort()}/v1/`;
    return {
      providers: `
  - { type: ecmwf-api, name: ECMWF API, realm: ecmwf, uri: "${up.url}/v1/" }
  - { type: ecmwf-api, name: ECMWF dead, realm: dead, uri: "${dead}" }`,
      steps: steps(k, "ecmwf"),
      secrets: Object.values(k).flatMap(urlSecrets),
      [Symbol.asyncDispose]: () => up[Symbol.asyncDispose](),
    };
  },
};

/** `efas-api`: GET <uri>&token=<token>. */
export const EFAS_API_CASE: LeakCase = {
  name: "efas-api (token in the query: 200, 403, 500, timeout, refused, no username)",
  covers: ["providers/efas-api"],
  async setup() {
    const k = keys("efas-token");
    const up = startVendor("/api/check", k, () => ({
      username: "floods",
      roles: ["viewer"],
      email: "floods@example.int",
    }));
    const dead = `http://127.0.0.1:${await closedPort()}/api/check?version=2`;
    return {
      providers: `
  - { type: efas-api, name: EFAS, realm: desp, uri: "${up.url}/api/check?version=2" }
  - { type: efas-api, name: EFAS dead, realm: dead, uri: "${dead}" }`,
      steps: steps(k, "efas", true),
      secrets: Object.values(k).flatMap(urlSecrets),
      [Symbol.asyncDispose]: () => up[Symbol.asyncDispose](),
    };
  },
};
