/**
 * Serves the tracker app over HTTP, feeding each request the socket's peer address: with the
 * epoll server (Linux, --allow-ffi; about 40 % less CPU per announce) or Deno.serve.
 */
import { BENCODE_HEADERS, createTrackerApp, type TrackerApp, type TrackerOptions } from "./app.ts";
import {
  EpollServer,
  type HttpHandler,
  type HttpReply,
  textReply,
} from "../../net/http/epoll_server.ts";
import { TrackerError } from "../protocol/errors.ts";
import { parseIp } from "../../util/ip.ts";
import { epollUnavailable } from "../../sys/libc.ts";

/** Longest query string served (HTTP 414 above): room for a scrape of ~200 info hashes. */
export const MAX_QUERY_BYTES = 16 * 1024;

export interface ServeOptions extends TrackerOptions {
  /** Address to listen on. Default `::` (IPv6 and, on dual-stack hosts, IPv4). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 9999. */
  port?: number;
  /**
   * The HTTP server: `epoll` (raw sockets through FFI: Linux, needs --allow-ffi and an IP
   * address as `host`), `deno` (Deno.serve), or `auto` (epoll where it can run). Default auto.
   */
  http?: HttpEngine;
}

export type HttpEngine = "auto" | "epoll" | "deno";

export interface RunningTracker {
  /** Announce URL on the address actually bound (loopback when bound to a wildcard). */
  url: string;
  /** One announce URL per reachable family (IPv4 and IPv6 for `::`). */
  urls: string[];
  port: number;
  /** Which HTTP server runs. */
  http: "epoll" | "deno";
  tracker: TrackerApp;
  /** Stops listening, the timers and the health checks. */
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Starts the tracker; resolves once it listens. */
export async function startTracker(options: ServeOptions = {}): Promise<RunningTracker> {
  const host = options.host ?? "::";
  const engine = options.http ?? "auto";
  const unavailable = epollUnavailable() ??
    (parseIp(host) ? undefined : "the host must be an IP address");
  if (engine === "epoll" && unavailable !== undefined) {
    throw TrackerError.server(`the epoll HTTP server cannot run: ${unavailable}`);
  }
  const tracker = await createTrackerApp(options);
  let listening: { port: number; close(): Promise<void> };
  try {
    listening = engine === "deno" || (engine === "auto" && unavailable !== undefined)
      ? serveWithDeno(tracker, host, options)
      : serveWithEpoll(tracker, host, options);
  } catch (e) {
    await tracker.close();
    throw TrackerError.server(
      `cannot listen on ${hostForUrl(host)}:${options.port ?? 9999}: ${(e as Error).message}`,
    );
  }
  const port = listening.port;
  const hosts = host === "::" ? ["127.0.0.1", "::1"] : host === "0.0.0.0" ? ["127.0.0.1"] : [host];
  const urls = hosts.map((h) => `http://${hostForUrl(h)}:${port}/announce`);
  return {
    url: urls[0]!,
    urls,
    port,
    http: listening instanceof EpollServer ? "epoll" : "deno",
    tracker,
    async close() {
      await listening.close();
      await tracker.close();
    },
  };
}

/** Whether a request target is an announce (the fast path: nearly all a tracker's traffic). */
function isAnnounce(target: string, path: number): boolean {
  return target.startsWith("/announce", path) &&
    (target.length === path + 9 || target[path + 9] === "?");
}

/** A real announce is ~300 bytes; nothing parses a longer query than MAX_QUERY_BYTES. */
function queryTooLong(target: string, path: number): boolean {
  const query = target.indexOf("?", path);
  return query >= 0 && target.length - query - 1 > MAX_QUERY_BYTES;
}

const TOO_LONG = "query string too long\n";

function serveWithDeno(tracker: TrackerApp, host: string, options: ServeOptions) {
  const trustProxy = options.trustProxy ?? false;
  const server = Deno.serve({
    hostname: host,
    port: options.port ?? 9999,
    onListen: () => {},
    // Whatever goes wrong in a handler, a client never sees a stack trace.
    onError: () => new Response("internal error", { status: 500 }),
  }, (req, info) => {
    const url = req.url;
    const path = url.indexOf("/", url.indexOf("//") + 2);
    if (queryTooLong(url, path)) return new Response(TOO_LONG, { status: 414 });
    if (req.method === "GET" && isAnnounce(url, path)) {
      // Reading any header materialises them all: only behind a trusted proxy.
      const forwarded = trustProxy ? req.headers.get("x-forwarded-for") : null;
      const body = tracker.announce(url, info.remoteAddr.hostname, forwarded);
      return new Response(body, { headers: BENCODE_HEADERS });
    }
    return tracker.app.fetch(req, { remoteAddr: info.remoteAddr });
  });
  return { port: server.addr.port, close: () => server.shutdown() };
}

const BENCODE_FIELDS = Object.entries(BENCODE_HEADERS);
const HOST = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function serveWithEpoll(tracker: TrackerApp, host: string, options: ServeOptions): EpollServer {
  const trustProxy = options.trustProxy ?? false;
  const maxBody = options.maxTorrentBytes ?? 10 * 1024 * 1024;
  // Requests without a usable Host header (HTTP/1.0) are served under this name.
  let self = "localhost";
  const handler: HttpHandler = ({ head, body, remote }) => {
    const target = head.target;
    if (queryTooLong(target, 0)) {
      return textReply(414, TOO_LONG);
    }
    if (head.method === "GET" && isAnnounce(target, 0)) {
      const forwarded = trustProxy ? field(head.headers, "x-forwarded-for") : null;
      // Borrowed: the server copies the reply into its send buffer before the next request.
      const reply = tracker.announce(target, remote.hostname, forwarded, true);
      return { status: 200, headers: BENCODE_FIELDS, body: reply };
    }
    // The other routes are Hono's: as a Request, under the name the client used for us.
    const named = field(head.headers, "host");
    const authority = named !== null && HOST.test(named) ? named : self;
    let request: Request;
    try {
      request = new Request(`http://${authority}${target}`, {
        method: head.method,
        headers: head.headers,
        ...(head.method !== "GET" && head.method !== "HEAD" && { body: body as BufferSource }),
      });
    } catch (e) {
      // Methods fetch() forbids (CONNECT, TRACE), header values it refuses.
      return textReply(400, `bad request: ${(e as Error).message}\n`);
    }
    return appReply(tracker.app.fetch(request, { remoteAddr: remote }));
  };
  const server = new EpollServer({
    host,
    port: options.port ?? 9999,
    handler,
    limits: { maxRequestLine: MAX_QUERY_BYTES + 8 * 1024, maxHead: 64 * 1024 },
    maxBody,
    ...(options.onWarning && {
      onError: (e: unknown) => options.onWarning!(`HTTP handler failed: ${e}`),
    }),
  });
  self = `localhost:${server.port}`;
  return server;
}

async function appReply(response: Response | Promise<Response>): Promise<HttpReply> {
  const res = await response;
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: [...res.headers], body };
}

function field(headers: [string, string][], name: string): string | null {
  for (const [n, v] of headers) if (n === name) return v;
  return null;
}
