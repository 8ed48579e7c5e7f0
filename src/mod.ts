/**
 * btx as a library: bencode, torrents and magnets, the peer wire protocol, a downloading and
 * seeding client, and the HTTP tracker.
 *
 * ```ts
 * import { createTorrent, download, parseMetainfo, seed, startTracker } from "@btx/btx";
 *
 * const tracker = await startTracker({ host: "127.0.0.1", port: 0 });
 * const { metainfo } = await createTorrent("data/film.mkv", { trackers: [tracker.url] });
 * const seeder = await seed(metainfo, { dir: "data" });
 * const stats = await download(metainfo, { dir: "downloads" });
 * await seeder.stop();
 * await tracker.close();
 * ```
 * @module
 */

export { BtxError, InputError } from "./util/errors.ts";

// Bencode (BEP 3).
export {
  BencodeError,
  type BValue,
  decode,
  decodeWithSpans,
  type Encodable,
  encode,
} from "./bencode/mod.ts";

// Metainfo, magnets, creation, file layout.
export {
  createTorrent,
  type CreateTorrentOptions,
  FileLayout,
  formatMagnet,
  type Magnet,
  MagnetError,
  type Metainfo,
  MetainfoError,
  parseMagnet,
  parseMetainfo,
  type TorrentFile,
} from "./torrent/mod.ts";

// Peer wire protocol (BEP 3, 6, 10).
export {
  decodeMessage,
  encodeMessage,
  FrameParser,
  type Message,
  PeerConnection,
  WireError,
} from "./wire/mod.ts";

// The client.
export { download, seed, type Seeder, type TransferOptions } from "./client/api.ts";
export { Client, type ClientOptions } from "./client/client.ts";
export {
  type PeerAddress,
  type SessionEvent,
  type SessionOptions,
  type SessionStats,
  TorrentSession,
} from "./client/session/session.ts";
export { Storage, StorageError } from "./client/storage/storage.ts";
export { announce, Announcer, scrape, TrackerError } from "./tracker/client/announce.ts";
export { loadTorrentSource } from "./client/source/load.ts";

// The tracker.
export {
  createTrackerApp,
  type RunningTracker,
  startTracker,
  type TrackerOptions,
} from "./tracker/server/mod.ts";
