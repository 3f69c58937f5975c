/**
 * Throw-away TLS material for system tests: a private CA and a server
 * certificate for 127.0.0.1/localhost, made with the `openssl` binary.
 *
 * @module
 */

import { requireBinary, run } from "./system.ts";

/** Files written by {@linkcode createTestCertificates}. */
export interface TestCertificates {
  /** PEM file of the CA certificate (trust this in clients). */
  caFile: string;
  /** The CA certificate as PEM text. */
  caPem: string;
  /** PEM file of the server certificate (SAN IP:127.0.0.1, DNS:localhost). */
  certFile: string;
  /** PEM file of the server's private key (unencrypted). */
  keyFile: string;
}

/**
 * Creates a CA and a server certificate signed by it in `dir` (EC P-256,
 * valid for two days). Throws `MissingBinaryError` without `openssl`.
 */
export async function createTestCertificates(
  dir: string,
): Promise<TestCertificates> {
  const openssl = requireBinary("openssl");
  const file = (name: string) => `${dir}/${name}`;
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  // deno-fmt-ignore
  await run(openssl, [
    "req", "-x509", ...ecKey, "-nodes", "-days", "2",
    "-subj", "/CN=authotron-test-ca",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", file("ca.key"), "-out", file("ca.pem"),
  ]);
  // deno-fmt-ignore
  await run(openssl, [
    "req", ...ecKey, "-nodes", "-subj", "/CN=127.0.0.1",
    "-keyout", file("server.key"), "-out", file("server.csr"),
  ]);
  await Deno.writeTextFile(
    file("server.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ].join("\n") + "\n",
  );
  // deno-fmt-ignore
  await run(openssl, [
    "x509", "-req", "-in", file("server.csr"), "-days", "2",
    "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-extfile", file("server.ext"), "-out", file("server.pem"),
  ]);
  return {
    caFile: file("ca.pem"),
    caPem: await Deno.readTextFile(file("ca.pem")),
    certFile: file("server.pem"),
    keyFile: file("server.key"),
  };
}
