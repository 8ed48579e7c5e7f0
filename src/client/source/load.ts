/**
 * Getting the .torrent bytes for whatever the user typed: a local path, an http(s) URL of a
 * .torrent, or an info hash / magnet link that a btx tracker can serve.
 * @module
 */
import { parseMagnet, parseMetainfo } from "../../torrent/mod.ts";
import { BtxError, InputError } from "../../util/errors.ts";
import { httpGet, HttpGetFailure } from "../../net/http/get.ts";

/** Downloading a .torrent failed (network, HTTP status, tracker without the torrent). */
export class FetchTorrentError extends BtxError {
  override name = "FetchTorrentError";
  constructor(readonly url: string, readonly reason: string) {
    super(`cannot fetch ${url}: ${reason}`);
  }
}

/** The source string cannot name a torrent (bad path, scheme, magnet without a tracker). */
export class TorrentSourceError extends InputError {
  override name = "TorrentSourceError";
}

export interface LoadTorrentOptions {
  /** A btx tracker's announce URL; needed for info hashes and magnet links. */
  tracker?: string;
  signal?: AbortSignal;
  /** Largest .torrent accepted over HTTP (default 16 MiB). */
  maxBytes?: number;
  /** Per request (default 30000). */
  timeoutMs?: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Loads .torrent bytes from `source`:
 * - `magnet:?xt=urn:btih:...` or a 40-hex info hash: `GET /torrents/<infohash>` on the btx
 *   tracker given as `tracker` (then on the magnet's own http trackers); the answer must have
 *   the requested info hash. Metadata from peers (BEP 9) is not supported.
 * - `http://` / `https://`: that URL, size-limited.
 * - anything else: a local file.
 * @throws {InputError} for bad input, {@link FetchTorrentError} for failed downloads.
 */
export async function loadTorrentSource(
  source: string,
  options: LoadTorrentOptions = {},
): Promise<Uint8Array> {
  const text = source.trim();
  if (/^magnet:/i.test(text)) {
    const magnet = parseMagnet(text);
    return await fromTrackers(magnet.infoHashHex, [
      ...(options.tracker === undefined ? [] : [options.tracker]),
      ...magnet.trackers.filter((t) => /^https?:\/\//i.test(t)),
    ], options);
  }
  if (/^[0-9a-f]{40}$/i.test(text)) {
    return await fromTrackers(
      text.toLowerCase(),
      options.tracker === undefined ? [] : [options.tracker],
      options,
    );
  }
  if (/^https?:\/\//i.test(text)) return await download(text, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new TorrentSourceError(`unsupported URL scheme in "${source}" (use http or https)`);
  }
  return await readLocal(source);
}

/**
 * Where a btx tracker serves the .torrent of `infoHashHex`: the announce URL with a trailing
 * `/announce` (and any query) replaced by `/torrents/<infohash>`.
 * @throws {TorrentSourceError} for a URL that is not http(s).
 */
export function torrentUrlFor(trackerUrl: string, infoHashHex: string): string {
  let url: URL;
  try {
    url = new URL(trackerUrl);
  } catch {
    throw new TorrentSourceError(`tracker "${trackerUrl}" is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TorrentSourceError(`tracker "${trackerUrl}" must be an http(s) URL`);
  }
  const base = url.pathname.replace(/\/announce[^/]*$/, "").replace(/\/+$/, "");
  return `${url.origin}${base}/torrents/${infoHashHex.toLowerCase()}`;
}

async function fromTrackers(
  infoHashHex: string,
  trackers: string[],
  options: LoadTorrentOptions,
): Promise<Uint8Array> {
  if (trackers.length === 0) {
    throw new TorrentSourceError(
      `${infoHashHex}: give a btx tracker that has this torrent (--tracker); ` +
        "fetching metadata from peers (BEP 9) is not supported",
    );
  }
  let lastError: Error | undefined;
  for (const tracker of new Set(trackers)) {
    const url = torrentUrlFor(tracker, infoHashHex);
    try {
      const bytes = await download(url, options);
      const got = parseMetainfo(bytes).infoHashHex;
      if (got !== infoHashHex) {
        throw new FetchTorrentError(url, `served a torrent with info hash ${got}`);
      }
      return bytes;
    } catch (e) {
      if (options.signal?.aborted || !(e instanceof BtxError)) throw e;
      lastError = e;
    }
  }
  throw lastError!;
}

async function download(url: string, options: LoadTorrentOptions): Promise<Uint8Array> {
  let result;
  try {
    result = await httpGet(url, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    });
  } catch (e) {
    if (e instanceof HttpGetFailure) throw new FetchTorrentError(url, e.message);
    throw e;
  }
  if (result.status === 404) throw new FetchTorrentError(url, "not found (HTTP 404)");
  if (!result.ok) {
    throw new FetchTorrentError(url, `HTTP ${result.status} ${result.statusText}`.trim());
  }
  // A bencoded dictionary starts with "d"; anything else is likely an HTML page.
  if (result.body[0] !== 0x64) {
    const type = result.headers.get("content-type") ?? "unknown type";
    throw new FetchTorrentError(url, `the answer is not a .torrent (${type})`);
  }
  return result.body;
}

async function readLocal(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TorrentSourceError(`no such file: ${path}`);
    if (e instanceof Deno.errors.IsADirectory) {
      throw new TorrentSourceError(`${path} is a folder, not a .torrent file`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new TorrentSourceError(`cannot read ${path}: permission denied`);
    }
    throw e;
  }
}
