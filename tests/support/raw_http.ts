/**
 * A raw HTTP/1.1 client for requests `fetch` refuses to send (CR/LF, NUL,
 * duplicate or oversized headers).
 *
 * @module
 */

/**
 * Writes `request` (a string is sent as UTF-8) to 127.0.0.1:`port` and returns
 * the response's status line, or `""` if the server closed without one.
 */
export async function rawStatusLine(port: number, request: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof request === "string" ? new TextEncoder().encode(request) : request);
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    return text.split("\r\n")[0]!;
  } finally {
    conn.close();
  }
}
