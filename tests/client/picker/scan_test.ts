import assert from "node:assert/strict";
import { Bitfield } from "../../../src/torrent/bitfield.ts";
import { bestIdlePieces, IDLE } from "../../../src/client/picker/scan.ts";

Deno.test("bestIdlePieces: rarest first, ties by rank, only idle pieces the peer offers", () => {
  const n = 8;
  const state = new Uint8Array(n).fill(IDLE);
  state[1] = 1; // active
  state[2] = 2; // have
  const avail = Int32Array.from([3, 1, 1, 2, 1, 0, 2, 1]);
  const rank = Uint32Array.from([0, 1, 2, 7, 6, 5, 3, 4]);
  const all = Bitfield.full(n);
  // Idle and available: 0 (a3), 3 (a2 r7), 4 (a1 r6), 6 (a2 r3), 7 (a1 r4).
  assert.deepEqual(bestIdlePieces(state, avail, rank, all, { count: 10, rarestFirst: true }), [
    7,
    4,
    6,
    3,
    0,
  ]);
  assert.deepEqual(bestIdlePieces(state, avail, rank, all, { count: 2, rarestFirst: true }), [
    7,
    4,
  ]);
  // Random first: rank alone.
  assert.deepEqual(bestIdlePieces(state, avail, rank, all, { count: 3, rarestFirst: false }), [
    0,
    6,
    7,
  ]);
  const some = new Bitfield(n);
  some.set(3);
  some.set(5);
  some.set(0);
  assert.deepEqual(bestIdlePieces(state, avail, rank, some, { count: 5, rarestFirst: true }), [
    3,
    0,
  ]);
  assert.deepEqual(bestIdlePieces(state, avail, rank, all, { count: 0, rarestFirst: true }), []);
});
