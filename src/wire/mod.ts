/**
 * The peer wire protocol: BEP 3 handshake and messages, BEP 6 fast extension, BEP 10
 * extension protocol. Codecs are pure functions over Uint8Array; {@link PeerConnection} is
 * the only part that does I/O.
 *
 * Typical outgoing use:
 * ```ts
 * const peer = await PeerConnection.connect({ hostname, port, infoHash, peerId, extended: true });
 * peer.send({ type: "interested" });
 * await peer.run((m) => { if (m.type === "unchoke") peer.send({ type: "request", ... }); });
 * ```
 * @module
 */
export { WireError } from "./errors.ts";
export {
  decodeHandshake,
  decodeHandshakeStart,
  encodeHandshake,
  type Handshake,
  HANDSHAKE_LENGTH,
  HANDSHAKE_START_LENGTH,
  type HandshakeOptions,
  type HandshakeStart,
} from "./handshake.ts";
export {
  decodeMessage,
  encodeMessage,
  encodePieceHeader,
  encodeRequestInto,
  type Message,
  MessageId,
  type MessageType,
  PIECE_HEADER_LENGTH,
  REQUEST_LENGTH,
} from "./messages.ts";
export { DEFAULT_MAX_FRAME, FrameParser, type FrameParserOptions } from "./frame.ts";
export {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type ExtendedHandshake,
  type ExtendedHandshakeInit,
} from "./ext/handshake.ts";
export { ExtensionRegistry, PeerExtensions } from "./ext/registry.ts";
export {
  type AcceptOptions,
  type AnswerOptions,
  type ConnectOptions,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  PeerConnection,
  type PeerConnectionOptions,
} from "./connection.ts";
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type HandshakeTimeoutOptions,
  readHandshakeStart,
  type WireConn,
} from "./socket.ts";
