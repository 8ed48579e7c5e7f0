/**
 * What a torrent session is made of, and the narrow view of it that the peer message handler
 * works through (so the handler and the session do not import each other).
 * @module
 */
import type { Metainfo } from "../../torrent/mod.ts";
import type { ExtendedHandshake, ExtensionRegistry } from "../../wire/mod.ts";
import type { PeerAddress } from "../../util/ip.ts";
import type { RateMeter } from "../../util/rate.ts";
import type { PeerHost } from "../peers/host.ts";
import type { Peer } from "../peers/peer.ts";
import type { TokenBucket } from "../peers/throttle.ts";
import type { PiecePicker } from "../picker/picker.ts";
import type { Storage } from "../storage/storage.ts";

/**
 * Where a session is in its life: `metadata` (it knows only the info hash and is fetching the
 * info dictionary from peers, BEP 9), `checking` (verifying data already on disk),
 * `downloading`, `seeding` (every piece verified), `stopped`.
 */
export type SessionState = "metadata" | "checking" | "downloading" | "seeding" | "stopped";

/** A peer whose data failed this many piece hashes is dropped and not dialled again. */
export const MAX_STRIKES = 2;

/** A snapshot for progress displays; every byte count is payload (piece data) only. */
export interface SessionStats {
  state: SessionState;
  total: number;
  /** Bytes of verified pieces. */
  have: number;
  piecesHave: number;
  pieceCount: number;
  downloaded: number;
  uploaded: number;
  downRate: number;
  upRate: number;
  peers: number;
  seeds: number;
}

export type SessionEvent =
  | { type: "checking"; checked: number; total: number }
  | { type: "progress"; stats: SessionStats }
  | { type: "peer"; peer: string; connected: boolean; reason?: string }
  | { type: "complete"; stats: SessionStats }
  | { type: "warning"; message: string };

export interface SessionOptions {
  /** The folder that holds (or will hold) the torrent's file or root folder. */
  dir: string;
  /** Keep serving once complete (a seeder); otherwise `stop()` is up to the caller. */
  seed?: boolean;
  /** Fetch missing pieces (default true). A partial seeder may set false. */
  download?: boolean;
  /** Data must already exist (a seeder): missing files are an error, not created. */
  existingData?: boolean;
  /** Tracker tiers; default the torrent's own announce list. */
  trackers?: string[][];
  /** Peers to dial besides the trackers' (magnet `x.pe`, tests). */
  peers?: PeerAddress[];
  maxPeers?: number;
  uploadSlots?: number;
  maxUnverifiedBytes?: number;
  /** Upload cap for this torrent in bytes per second (default unlimited). */
  maxUploadRate?: number;
  /** Cancels `start` while it checks existing data (it then throws a CheckStoppedError). */
  signal?: AbortSignal;
  /** Progress, peers and warnings. Called synchronously; never throws into the session. */
  onEvent?: (event: SessionEvent) => void;
}

/**
 * A BEP 10 extension the session speaks (BEP 9 metadata, BEP 11 peer exchange...): it sees the
 * peer's handshakes and the messages sent to it by name, whatever ids the two sides chose.
 */
export interface ExtensionHandler {
  readonly name: string;
  /** A peer's (first or updating) extended handshake; `peer.extensions` is already updated. */
  onHandshake?(peer: Peer, handshake: ExtendedHandshake): void;
  onMessage(peer: Peer, payload: Uint8Array): void;
}

/** What the peer message handler may see and do of its session. */
export interface SessionContext {
  readonly meta: Metainfo;
  readonly options: SessionOptions;
  readonly client: Pick<PeerHost, "port">;
  readonly peers: Map<string, Peer>;
  readonly picker: PiecePicker;
  readonly storage: Storage;
  readonly downRate: RateMeter;
  readonly upRate: RateMeter;
  readonly uploadLimiter: TokenBucket | undefined;
  /** Our BEP 10 extensions, by the ids we receive them on. */
  readonly extensions: ExtensionRegistry;
  readonly extensionHandlers: ReadonlyMap<string, ExtensionHandler>;
  readonly signal: AbortSignal;
  readonly isComplete: boolean;
  downloaded: number;
  uploaded: number;
  emit(event: SessionEvent): void;
  disconnect(peer: Peer, reason: string, ban?: boolean): void;
  rechoke(now?: number): void;
  onPieceDone(): void;
  fail(error: unknown): void;
}
