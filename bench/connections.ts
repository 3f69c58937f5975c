/**
 * Counts the TCP connections made to given ports, from the kernel's socket
 * table (`ss`, Debian package iproute2): every connection the kernel still
 * knows, established or closed within the last minute (TIME-WAIT), named by
 * its client-side address. The difference of two snapshots is the number of
 * connections opened in between (runs are much shorter than TIME-WAIT's 60 s).
 *
 * @module
 */

/**
 * Client-side `address:port` of every known connection to one of `ports`;
 * `undefined` when `ss` cannot be run (nothing is counted then).
 */
export async function connectionIds(ports: readonly number[]): Promise<Set<string> | undefined> {
  const ids = new Set<string>();
  if (ports.length === 0) return ids;
  const filter = ports.map((p) => `sport = :${p} or dport = :${p}`).join(" or ");
  let text: string;
  try {
    const out = await new Deno.Command("ss", {
      args: ["-tanH", `( ${filter} )`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return undefined;
  }
  const wanted = new Set(ports.map(String));
  for (const line of text.split("\n")) {
    const [state, , , local, peer] = line.trim().split(/\s+/);
    if (state === undefined || state === "LISTEN" || local === undefined || !peer) continue;
    const port = (address: string) => address.slice(address.lastIndexOf(":") + 1);
    // The end that is not the server's port is the client side of the connection.
    if (wanted.has(port(local))) ids.add(peer);
    else if (wanted.has(port(peer))) ids.add(local);
  }
  return ids;
}

/** True when `ss` can be run. */
export async function hasSs(): Promise<boolean> {
  try {
    return (await new Deno.Command("ss", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}
