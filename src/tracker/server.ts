/**
 * Serves the tracker app with Deno.serve, feeding each request the socket's peer address.
 */
import { BENCODE_HEADERS, createTrackerApp, type TrackerApp, type TrackerOptions } from "./app.ts";
import { TrackerError } from "./errors.ts";

/** Longest query string served (HTTP 414 above): room for a scrape of ~200 info hashes. */
export const MAX_QUERY_BYTES = 16 * 1024;

export interface ServeOptions extends TrackerOptions {
  /** Address to listen on. Default `::` (IPv6 and, on dual-stack hosts, IPv4). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 9999. */
  port?: number;
}

export interface RunningTracker {
  /** Announce URL on the address actually bound (loopback when bound to a wildcard). */
  url: string;
  /** One announce URL per reachable family (IPv4 and IPv6 for `::`). */
  urls: string[];
  port: number;
  tracker: TrackerApp;
  /** Stops listening, the timers and the health checks. */
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Starts the tracker; resolves once it listens. */
export async function startTracker(options: ServeOptions = {}): Promise<RunningTracker> {
  const tracker = await createTrackerApp(options);
  const host = options.host ?? "::";
  const { app } = tracker;
  const trustProxy = options.trustProxy ?? false;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port: options.port ?? 9999,
      onListen: () => {},
      // Whatever goes wrong in a handler, a client never sees a stack trace.
      onError: () => new Response("internal error", { status: 500 }),
    }, (req, info) => {
      // Fast path: announces skip the router (they are nearly all the traffic).
      const url = req.url;
      const path = url.indexOf("/", url.indexOf("//") + 2);
      // A real announce is ~300 bytes; nothing parses a longer query than this.
      const query = url.indexOf("?", path);
      if (query >= 0 && url.length - query - 1 > MAX_QUERY_BYTES) {
        return new Response("query string too long\n", { status: 414 });
      }
      if (
        req.method === "GET" && url.startsWith("/announce", path) &&
        (url.length === path + 9 || url[path + 9] === "?")
      ) {
        // Reading any header materialises them all: only behind a trusted proxy.
        const forwarded = trustProxy ? req.headers.get("x-forwarded-for") : null;
        const body = tracker.announce(url, info.remoteAddr.hostname, forwarded);
        return new Response(body, { headers: BENCODE_HEADERS });
      }
      return app.fetch(req, { remoteAddr: info.remoteAddr });
    });
  } catch (e) {
    await tracker.close();
    throw new TrackerError(
      `cannot listen on ${hostForUrl(host)}:${options.port ?? 9999}: ${(e as Error).message}`,
    );
  }
  const port = server.addr.port;
  const hosts = host === "::" ? ["127.0.0.1", "::1"] : host === "0.0.0.0" ? ["127.0.0.1"] : [host];
  const urls = hosts.map((h) => `http://${hostForUrl(h)}:${port}/announce`);
  return {
    url: urls[0]!,
    urls,
    port,
    tracker,
    async close() {
      await server.shutdown();
      await tracker.close();
    },
  };
}
