import { WireError } from "./errors.ts";
import { decodeHandshakeStart, HANDSHAKE_START_LENGTH, type HandshakeStart } from "./handshake.ts";

/** The parts of a `Deno.Conn` the wire layer uses; any `Deno.Conn` is one. */
export type WireConn = Pick<Deno.Conn, "read" | "write" | "close" | "remoteAddr">;

/** Time allowed for TCP connect plus the handshake exchange. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;

/** Deadline and cancellation for a handshake step. */
export interface HandshakeTimeoutOptions {
  /** Default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Aborting closes the connection and fails the step. */
  signal?: AbortSignal;
}

/** "host:port", bracketing IPv6 hosts, for messages and logs. */
export function formatPeer(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** The remote host and port of a connection, when it is a network connection. */
export function remoteOf(conn: WireConn): { hostname: string; port: number } {
  const addr = conn.remoteAddr as Partial<Deno.NetAddr> | undefined;
  return { hostname: addr?.hostname ?? "", port: addr?.port ?? 0 };
}

/**
 * Reads exactly `length` bytes. Reads never ask for more than what is still missing, so no
 * byte of the message stream that follows the handshake is consumed here.
 */
export async function readExact(
  conn: WireConn,
  length: number,
  peer?: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) throw new WireError("connection closed during the handshake", peer);
    filled += n;
  }
  return out;
}

/** Writes all of `data`; `conn.write` may write only part of it. */
export async function writeAll(conn: WireConn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const n = await conn.write(data.subarray(written));
    if (n <= 0) throw new Error("write made no progress");
    written += n;
  }
}

/**
 * Runs a handshake step under a deadline. On timeout or abort the connection is closed (which
 * fails the pending read) and a WireError says why; any failure closes the connection and
 * surfaces as a WireError.
 */
export async function withDeadline<T>(
  conn: { close(): void } | undefined,
  peer: string,
  options: HandshakeTimeoutOptions,
  step: (stopSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const controller = new AbortController();
  let why: string | undefined;
  const stop = (reason: string) => {
    if (why !== undefined) return;
    why = reason;
    controller.abort();
    closeQuietly(conn);
  };
  const timer = setTimeout(() => stop(`handshake timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => stop("handshake aborted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    if (why !== undefined) throw new WireError(why, peer);
    return await step(controller.signal);
  } catch (e) {
    closeQuietly(conn);
    if (why !== undefined) throw new WireError(why, peer);
    if (e instanceof WireError) throw e.peer === undefined ? new WireError(e.reason, peer) : e;
    throw new WireError(`handshake failed: ${(e as Error).message}`, peer);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Reads the first 48 bytes of an incoming handshake (up to the info hash), for a listener
 * that serves several torrents: look the info hash up, then finish with
 * `PeerConnection.answer`, or close the connection. Closes `conn` on failure.
 * @throws {WireError} on timeout, EOF, or a non-BitTorrent handshake.
 */
export function readHandshakeStart(
  conn: WireConn,
  options: HandshakeTimeoutOptions = {},
): Promise<HandshakeStart> {
  const { hostname, port } = remoteOf(conn);
  const peer = formatPeer(hostname, port);
  return withDeadline(conn, peer, options, async () => {
    return decodeHandshakeStart(await readExact(conn, HANDSHAKE_START_LENGTH, peer));
  });
}

export function closeQuietly(conn: { close(): void } | undefined): void {
  try {
    conn?.close();
  } catch {
    // Already closed: nothing left to release.
  }
}
