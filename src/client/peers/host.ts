/**
 * What a torrent session needs of the process-wide peer host (`Client`): its peer id, its
 * listening port, and the routing of incoming connections to the session of their info hash.
 * @module
 */
import type { PeerConnection } from "../../wire/mod.ts";

/** Our handshake always advertises BEP 10 (extension protocol) and BEP 6 (fast). */
export const HANDSHAKE_FEATURES = {
  extended: true,
  fast: true,
  // Not a handshake bit, but every session connection wants it: the picker copies each
  // block into its piece buffer at once, so the wire layer need not copy it first.
  borrowBlocks: true,
} as const;

/** What the host hands incoming connections to: one per torrent. */
export interface ConnectionSink {
  readonly infoHashHex: string;
  /** Takes over an established connection for this torrent. */
  addConnection(conn: PeerConnection): void;
}

/** One listening port and peer id, shared by every torrent of the process. */
export interface PeerHost {
  readonly peerId: Uint8Array;
  readonly port: number;
  /** The one address we listen on, when not a wildcard: sent to trackers as BEP 3 `ip`. */
  readonly listenAddress: string | undefined;
  /** Routes incoming handshakes for `sink.infoHashHex` to `sink`. */
  register(sink: ConnectionSink): void;
  unregister(sink: ConnectionSink): void;
}
