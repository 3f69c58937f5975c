/**
 * A raw HTTP/1.1 client for requests `fetch` refuses to send (CR/LF, NUL,
 * duplicate or oversized headers), and a keep-alive client that tells an
 * answered request from one lost when the server closed the connection.
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

/** One answer read by a {@link KeepAliveClient}. */
export interface RawResponse {
  /** The status code. */
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body (content-length framed) as text. */
  readonly body: string;
}

/** An HTTP/1.1 keep-alive connection that sends one request at a time. */
export interface KeepAliveClient {
  /**
   * Sends `GET path` (with `headers`) and reads the answer; `undefined` when
   * the server closed the connection without answering (a lost request).
   */
  get(path: string, headers?: Record<string, string>): Promise<RawResponse | undefined>;
  /** Closes the connection. */
  close(): void;
}

const latin1 = new TextDecoder("latin1");

/** Opens a keep-alive connection to 127.0.0.1:`port`. */
export async function keepAliveClient(port: number): Promise<KeepAliveClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let buffered = "";
  const fill = async (): Promise<boolean> => {
    const buf = new Uint8Array(16 * 1024);
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null; // reset by peer
    }
    if (n === null) return false;
    buffered += latin1.decode(buf.subarray(0, n));
    return true;
  };
  return {
    async get(path, headers = {}) {
      const lines = [`GET ${path} HTTP/1.1`, "host: 127.0.0.1"];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      try {
        await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
      } catch {
        return undefined;
      }
      while (!buffered.includes("\r\n\r\n")) if (!(await fill())) return undefined;
      const end = buffered.indexOf("\r\n\r\n");
      const [statusLine, ...headerLines] = buffered.slice(0, end).split("\r\n");
      const parsed = new Map<string, string>();
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        parsed.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(parsed.get("content-length") ?? "0");
      while (buffered.length < end + 4 + length) if (!(await fill())) return undefined;
      const body = buffered.slice(end + 4, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      return { status: Number(statusLine!.split(" ")[1]), headers: parsed, body };
    },
    close() {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
