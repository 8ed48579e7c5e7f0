import assert from "node:assert/strict";
import {
  EpollServer,
  type EpollServerOptions,
  type HttpHandler,
} from "../../../src/net/http/epoll_server.ts";

// Raw HTTP/1.1 over TCP for the epoll server's tests: the bytes sent are exactly the test's.

export const LINUX = Deno.build.os === "linux";

/** Whether this host has IPv6 loopback. */
export const HAS_IPV6 = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

/** Bound on any single wait, so a broken server fails a test instead of hanging it. */
const WAIT_MS = 30_000;

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function timed<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RawReply {
  statusLine: string;
  status: number;
  /** Field names in lower case. */
  headers: Map<string, string>;
  body: Uint8Array;
  text: string;
}

/** One TCP connection: writes bytes as given, reads replies framed by Content-Length. */
export class Raw {
  #buf = new Uint8Array(0);
  #closed = false;

  constructor(readonly conn: Deno.TcpConn) {}

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let i = 0; i < bytes.length;) {
      i += await timed(this.conn.write(bytes.subarray(i)), "write");
    }
  }

  /** Bytes received and not yet part of a reply. */
  get buffered(): number {
    return this.#buf.length;
  }

  async #more(size = 64 * 1024, ms = WAIT_MS): Promise<boolean> {
    const chunk = new Uint8Array(size);
    const n = await timed(this.conn.read(chunk), "read", ms);
    if (n === null) return false;
    const joined = new Uint8Array(this.#buf.length + n);
    joined.set(this.#buf);
    joined.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = joined;
    return true;
  }

  /**
   * The next reply (1xx ones included). `head`: the request was HEAD, so no body follows.
   * `readSize` and `pauseMs` make a slow reader of the body.
   */
  async reply(o: { head?: boolean; readSize?: number; pauseMs?: number } = {}): Promise<RawReply> {
    let end: number;
    while ((end = headEnd(this.#buf)) < 0) {
      if (!(await this.#more())) {
        throw new Error(
          `closed before a reply: ${JSON.stringify(latin(this.#buf.subarray(0, 300)))}`,
        );
      }
    }
    const lines = latin(this.#buf.subarray(0, end)).split("\r\n");
    const statusLine = lines[0]!;
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? NaN);
    assert.ok(Number.isInteger(status), `status line ${JSON.stringify(statusLine)}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      assert.ok(colon > 0 && !headers.has(name), `field line ${JSON.stringify(line)}`);
      headers.set(name, line.slice(colon + 1).trim());
    }
    // RFC 9112 section 6.3: these replies end with their head.
    const bodyless = status < 200 || status === 204 || status === 304 || o.head;
    const length = bodyless ? 0 : Number(headers.get("content-length"));
    assert.ok(Number.isInteger(length), "no content-length");
    const body = new Uint8Array(length);
    let got = Math.min(length, this.#buf.length - end - 4);
    body.set(this.#buf.subarray(end + 4, end + 4 + got));
    this.#buf = this.#buf.slice(end + 4 + got);
    while (got < length) {
      // Straight into the body, never beyond it: what follows stays unread.
      const n = await timed(
        this.conn.read(body.subarray(got, got + (o.readSize ?? length))),
        "body",
      );
      if (n === null) throw new Error(`closed after ${got} of ${length} body bytes`);
      got += n;
      if (o.pauseMs) await delay(o.pauseMs);
    }
    return { statusLine, status, headers, body, text: new TextDecoder().decode(body) };
  }

  /** The next reply, or undefined when the connection ends (or is reset) first. */
  async replyOrEnd(): Promise<RawReply | undefined> {
    try {
      return await this.reply();
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionReset || /^closed/.test((e as Error).message)) {
        return undefined;
      }
      throw e;
    }
  }

  /** Reads until the server ends the connection: cleanly (eof) or with a reset. */
  async end(ms = WAIT_MS): Promise<"eof" | "reset"> {
    try {
      while (await this.#more(64 * 1024, ms));
      return "eof";
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionReset) return "reset";
      throw e;
    }
  }

  close(): void {
    if (!this.#closed) this.conn.close();
    this.#closed = true;
  }
}

function headEnd(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

const latin = (b: Uint8Array) => String.fromCharCode(...b);

export interface Harness {
  server: EpollServer;
  /** A connection closed when the test ends. */
  connect(hostname?: string): Promise<Raw>;
}

/** Runs `fn` with a server on a free loopback port, then closes its connections and it. */
export async function withServer(
  handler: HttpHandler,
  fn: (h: Harness) => Promise<void>,
  options: Partial<EpollServerOptions> = {},
): Promise<void> {
  const server = new EpollServer({
    host: "127.0.0.1",
    port: 0,
    handler,
    limits: { maxRequestLine: 8192, maxHead: 16384 },
    maxBody: 64 * 1024,
    ...options,
  });
  const opened: Raw[] = [];
  const connect = async (hostname = options.host === "::1" ? "::1" : "127.0.0.1") => {
    const raw = new Raw(await Deno.connect({ hostname, port: server.port }));
    opened.push(raw);
    return raw;
  };
  try {
    await fn({ server, connect });
  } finally {
    for (const raw of opened) raw.close();
    await server.close();
  }
}
