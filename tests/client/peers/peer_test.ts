import assert from "node:assert/strict";
import { requestKey } from "../../../src/client/peers/peer.ts";

Deno.test("requestKey: one number per (piece, block); none for a begin we never request", () => {
  const keys = new Set<number>();
  for (const index of [0, 1, 2, 1_000_000]) {
    for (const begin of [0, 16384, 32768, 16384 * 1023]) keys.add(requestKey(index, begin));
  }
  assert.equal(keys.size, 16, "two blocks share a key");
  assert.equal(requestKey(3, 100), -1, "unaligned begin");
  assert.equal(requestKey(3, 2 ** 34), -1, "begin beyond a 16 GiB piece");
  assert.notEqual(requestKey(3, 2 ** 34 - 16384), requestKey(4, 0));
});
