/**
 * A tiny scripted HTTP tracker for client tests: every request is recorded with its raw query
 * (percent-decoded to bytes per parameter) and answered by the current `reply` function.
 */
import { type Encodable, encode } from "../../../src/bencode/mod.ts";

export interface RecordedRequest {
  path: string;
  /** The query string exactly as sent, without the `?`. */
  rawQuery: string;
  /** Every parameter, percent-decoded to raw bytes, in order (repeats kept). */
  params: [string, Uint8Array][];
}

export type Reply = (req: RecordedRequest, request: Request) => Response | Promise<Response>;

/** Percent-decodes to bytes without any text decoding, so 0xff stays 0xff. */
export function percentDecode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%") {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

export function param(req: RecordedRequest, name: string): string | undefined {
  const found = req.params.find(([k]) => k === name);
  return found ? new TextDecoder().decode(found[1]) : undefined;
}

export function bencoded(value: Encodable, status = 200): Response {
  return new Response(encode(value) as Uint8Array<ArrayBuffer>, {
    status,
    headers: { "content-type": "text/plain" },
  });
}

export class TrackerServer {
  readonly requests: RecordedRequest[] = [];
  reply: Reply = () => bencoded({ interval: 1800, peers: new Uint8Array(0) });
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #waiters: ((r: RecordedRequest) => void)[] = [];
  /** Held requests (slow replies) are released on close so the server can shut down. */
  readonly #held: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        const url = new URL(request.url);
        const rawQuery = url.search.slice(1);
        const params: [string, Uint8Array][] = rawQuery === "" ? [] : rawQuery.split("&").map(
          (pair) => {
            const eq = pair.indexOf("=");
            const key = eq === -1 ? pair : pair.slice(0, eq);
            return [key, percentDecode(eq === -1 ? "" : pair.slice(eq + 1))];
          },
        );
        const recorded = { path: url.pathname, rawQuery, params };
        this.requests.push(recorded);
        this.#waiters.shift()?.(recorded);
        return await this.reply(recorded, request);
      },
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Resolves with the next request the server receives. */
  nextRequest(): Promise<RecordedRequest> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A reply that never comes until the server closes (for timeouts). */
  hang(): Promise<Response> {
    return new Promise((resolve) => this.#held.push(() => resolve(new Response("late"))));
  }

  async close(): Promise<void> {
    for (const release of this.#held.splice(0)) release();
    await this.#server.shutdown();
  }
}

/** A port nothing listens on: bound, read and released. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * An info hash whose bytes break any text-based query encoding: NUL, 0xff, '%', '&', '=',
 * space, '+', '?', '#', '/', newline, invalid UTF-8, and a few unreserved characters.
 */
export const AWKWARD_INFO_HASH = Uint8Array.from([
  0xff,
  0x00,
  0x25,
  0x26,
  0x3d,
  0x20,
  0x2b,
  0x41,
  0x7a,
  0x2d,
  0x2e,
  0x5f,
  0x7e,
  0x80,
  0xc3,
  0x28,
  0x0a,
  0x2f,
  0x3f,
  0x23,
]);
