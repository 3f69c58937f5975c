/**
 * A recording TCP proxy on 127.0.0.1 for system tests: forwards every
 * connection to a target port and keeps what clients sent, so a test can
 * count requests on the wire (e.g. LDAP searches for one username) without
 * trusting the code under test's own counters.
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** How many times `needle` (UTF-8) occurs in the bytes clients sent, per connection, summed. */
  occurrences(needle: string): number;
  /** Closes every open connection (both sides) but keeps accepting new ones. */
  dropConnections(): void;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

function count(haystack: Uint8Array, needle: Uint8Array): number {
  let found = 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    found++;
  }
  return found;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Starts a proxy to `127.0.0.1:targetPort` on a free port. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sent: Uint8Array[][] = [];
  const open = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  let connections = 0;

  async function pump(from: Deno.Conn, to: Deno.Conn, record?: Uint8Array[]): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        record?.push(chunk);
        let written = 0;
        while (written < n) written += await to.write(chunk.subarray(written));
      }
    } catch {
      // either side went away
    }
    for (const conn of [from, to]) {
      if (open.delete(conn)) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
  }

  async function serve(client: Deno.Conn): Promise<void> {
    open.add(client);
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      open.delete(client);
      client.close();
      return;
    }
    open.add(server);
    const record: Uint8Array[] = [];
    sent.push(record);
    await Promise.all([pump(client, server, record), pump(server, client)]);
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        tasks.push(serve(conn));
      }
    } catch {
      // listener closed
    }
  })();

  const dropConnections = () => {
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    open.clear();
  };

  const close = async () => {
    try {
      listener.close();
    } catch { /* already closed */ }
    dropConnections();
    await accepting;
    await Promise.all(tasks);
  };

  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return connections;
    },
    occurrences(needle) {
      const bytes = new TextEncoder().encode(needle);
      return sent.reduce((n, record) => n + count(concat(record), bytes), 0);
    },
    dropConnections,
    close,
    [Symbol.asyncDispose]: close,
  };
}
