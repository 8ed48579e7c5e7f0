/** A decoded bencode value. Byte strings stay bytes; dictionary keys are binary strings. */
export type BValue = Uint8Array | number | bigint | BList | BDict;
export type BList = BValue[];
/**
 * Dictionary keys are "binary strings" (one char per byte, see `toBinary`), which keeps any
 * key bytes lossless and makes string order equal raw byte order, as BEP 3 sorts keys.
 */
export type BDict = Map<string, BValue>;

/**
 * What `encode` accepts: decoded values plus JS conveniences. Strings are UTF-8 encoded,
 * plain objects are dictionaries, and `undefined` dictionary values are left out.
 */
export type Encodable =
  | BValue
  | string
  | readonly Encodable[]
  | Map<string, Encodable>
  | { readonly [key: string]: Encodable | undefined };

/** Where a value sits in the input: `data.subarray(start, end)` is its exact encoding. */
export interface Span {
  start: number;
  end: number;
}
