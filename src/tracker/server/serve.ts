/**
 * Serves the tracker app over HTTP, feeding each request the socket's peer address: with the
 * epoll server (Linux, --allow-ffi; about 40 % less CPU per announce) or Deno.serve.
 */
import { createTrackerApp, type TrackerApp, type TrackerOptions } from "./app.ts";
import type { TrackerCore } from "./core.ts";
import {
  BENCODE_HEADERS,
  httpAnnounce,
  HttpRoute,
  MAX_QUERY_BYTES,
  routeOf,
  TOO_LONG_TEXT,
} from "./http.ts";
import {
  EpollServer,
  type HttpHandler,
  type HttpReply,
  textReply,
} from "../../net/http/epoll_server.ts";
import { TrackerError } from "../protocol/errors.ts";
import { parseIp } from "../../util/ip.ts";
import { epollUnavailable } from "../../sys/libc.ts";

export { MAX_QUERY_BYTES };

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
  /** The tracker's transport-free core (`tracker.core`), for attaching another transport. */
  core: TrackerCore;
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
    core: tracker.core,
    async close() {
      await listening.close();
      await tracker.close();
    },
  };
}

function serveWithDeno(tracker: TrackerApp, host: string, options: ServeOptions) {
  const trustProxy = options.trustProxy ?? false;
  const core = tracker.core;
  const server = Deno.serve({
    hostname: host,
    port: options.port ?? 9999,
    onListen: () => {},
    // Whatever goes wrong in a handler, a client never sees a stack trace.
    onError: () => new Response("internal error", { status: 500 }),
  }, (req, info) => {
    const url = req.url;
    const route = routeOf(req.method, url, url.indexOf("/", url.indexOf("//") + 2));
    if (route === HttpRoute.TooLong) return new Response(TOO_LONG_TEXT, { status: 414 });
    if (route === HttpRoute.Announce) {
      // Reading any header materialises them all: only behind a trusted proxy.
      const forwarded = trustProxy ? req.headers.get("x-forwarded-for") : null;
      const body = httpAnnounce(core, url, info.remoteAddr.hostname, forwarded);
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
  const core = tracker.core;
  const maxBody = options.maxTorrentBytes ?? 10 * 1024 * 1024;
  // Requests without a usable Host header (HTTP/1.0) are served under this name.
  let self = "localhost";
  const handler: HttpHandler = ({ head, body, remote }) => {
    const target = head.target;
    const route = routeOf(head.method, target, 0);
    if (route === HttpRoute.TooLong) return textReply(414, TOO_LONG_TEXT);
    if (route === HttpRoute.Announce) {
      const forwarded = trustProxy ? field(head.headers, "x-forwarded-for") : null;
      // Borrowed: the server copies the reply into its send buffer before the next request.
      const reply = httpAnnounce(core, target, remote.hostname, forwarded, true);
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
