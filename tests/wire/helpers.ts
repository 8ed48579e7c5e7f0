import { fromHex } from "../../src/util/bytes.ts";

/** Hex with any whitespace, for writing byte vectors out literally. */
export function hex(text: string): Uint8Array {
  const bytes = fromHex(text.replace(/\s+/g, ""));
  if (!bytes) throw new Error(`bad hex in test: ${text}`);
  return bytes;
}
