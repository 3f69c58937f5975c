/**
 * Prints a `password_hash` for the `plain` provider. Reads the password from
 * standard input (so it stays out of shell history and process lists):
 *
 * ```sh
 * printf '%s' 'the password' | npx -y deno@2.9.6 task hash-password
 * ```
 *
 * @module
 */

import { hashPassword } from "../providers/_shared/password_hash.ts";

const input = await new Response(Deno.stdin.readable).text();
const password = input.replace(/\r?\n$/, "");
if (password === "") {
  // deno-lint-ignore no-console -- command-line tool output
  console.error("usage: printf '%s' 'password' | deno task hash-password");
  Deno.exit(2);
}
// deno-lint-ignore no-console -- command-line tool output
console.log(await hashPassword(password));
