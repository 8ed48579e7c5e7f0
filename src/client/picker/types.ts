// The scheduler's public data shapes, kept apart so picker.ts stays about its logic.
import type { Bitfield } from "../../torrent/bitfield.ts";

/**
 * Blocks are keyed as piece index * BLOCK_KEY_SHIFT + block number (pieces up to 16 GiB of
 * 16 KiB blocks): one number, no string, in the picker's per-peer index and a peer's
 * outstanding requests.
 */
export const BLOCK_KEY_SHIFT = 2 ** 20;

/** A block to ask a peer for (a BEP 3 `request` message). */
export interface BlockRequest {
  index: number;
  begin: number;
  length: number;
}

/** A block request attributed to one peer (for cancels, timeouts and releases). */
export interface PeerRequest extends BlockRequest {
  peerKey: string;
}

/** The peer asking for work: its key, its pieces, how many blocks it may take, and the time. */
export interface PickPeer {
  key: string;
  has: Bitfield;
  count: number;
  now: number;
}

export interface ReceiveResult {
  /**
   * The assembled piece when this block was its last one: verify it, then `verified`/`failed`.
   * The picker reuses this memory for a later piece after `verified`/`failed`: finish with it
   * (write it) before calling either.
   */
  readonly complete?: Uint8Array;
  /** The block was not wanted any more (already received, or not part of an active piece). */
  readonly duplicate?: boolean;
  /** Endgame: other peers that were asked for this block; send them a `cancel`. */
  readonly cancel: readonly PeerRequest[];
}

export interface TimeoutResult {
  /** Requests that waited too long; their blocks are wanted again. Cancel them. */
  expired: PeerRequest[];
  /** Peers that had an expired request: treat as snubbed. */
  snubbed: string[];
}

export interface PickerOptions {
  /** Piece count and sizes; a `FileLayout` fits. */
  layout: { pieceCount: number; pieceSize(index: number): number };
  /** Pieces we have (verified). The picker sets bits in it on `verified`. */
  have: Bitfield;
  /** Global cap on bytes of pieces in progress (buffered until verified). Default 64 MiB. */
  maxUnverifiedBytes?: number;
  /** Endgame: at most this many peers asked for the same block. Default 3. */
  maxDuplicates?: number;
  /** Pick random pieces (not rarest) until this many are complete. Default 4. */
  randomFirst?: number;
  /** Injected for deterministic tests; default Math.random. */
  random?: () => number;
}
