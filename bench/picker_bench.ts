import { Bitfield } from "../src/client/bitfield.ts";
import { PiecePicker } from "../src/client/picker.ts";
import { BLOCK_SIZE, FileLayout } from "../src/torrent/layout.ts";

// 100,000 pieces of 256 KiB (~24 GiB): one pick scans every piece for the rarest candidates.
const PIECES = 100_000;
const pieceLength = 16 * BLOCK_SIZE;
const layout = new FileLayout({
  files: [{ path: ["big"], length: PIECES * pieceLength, offset: 0, pad: false }],
  pieceLength,
  length: PIECES * pieceLength,
  pieceCount: PIECES,
});
const have = new Bitfield(PIECES);
for (let i = 0; i < PIECES; i += 3) have.set(i);
const seed = Bitfield.full(PIECES);
const picker = new PiecePicker({ layout, have });
for (let p = 0; p < 20; p++) {
  const bits = new Bitfield(PIECES);
  for (let i = 0; i < PIECES; i++) if ((i * 2654435761 + p * 97) % 7 < 3) bits.set(i);
  picker.peerBitfield(bits);
}
picker.peerHaveAll();

let n = 0;
Deno.bench("picker: pick 128 blocks over 100,000 pieces", () => {
  const reqs = picker.pick({ key: `peer${n++}`, has: seed, count: 128, now: n });
  if (reqs.length !== 128) throw new Error(`picked ${reqs.length}`);
  picker.release(`peer${n - 1}`);
});
