/**
 * Bencode (BEP 3): pure codecs over Uint8Array.
 * @module
 */
export { decode, type DecodeOptions, decodeWithSpans } from "./decode.ts";
export { encode } from "./encode.ts";
export { BencodeError } from "./errors.ts";
export type { BDict, BList, BValue, Encodable, Span } from "./types.ts";
export { isBytes, isDict, isInt, isList } from "./access.ts";
