import { Bitfield } from "../src/torrent/bitfield.ts";
import { PiecePicker } from "../src/client/picker/picker.ts";
import { BLOCK_SIZE, FileLayout } from "../src/torrent/layout.ts";

// 100,000 pieces of 256 KiB (~24 GiB): one pick scans every piece for the rarest candidates.
const PIECES = 100_000;
const pieceLength = 16 * BLOCK_SIZE;

/** One file of `pieces` full 256 KiB pieces. */
function layoutOf(pieces: number): FileLayout {
  const length = pieces * pieceLength;
  return new FileLayout({
    files: [{ path: ["data"], length, offset: 0, pad: false }],
    pieceLength,
    length,
    pieceCount: pieces,
  });
}

const layout = layoutOf(PIECES);
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

// The swarm benchmark's case: 1 GiB of 256 KiB pieces, every peer a seeder, so availability
// ties everywhere and the random rank decides (the scan's sorted insertion does the work).
const SWARM_PIECES = 4096;
const swarmPicker = new PiecePicker({
  layout: layoutOf(SWARM_PIECES),
  have: new Bitfield(SWARM_PIECES),
});
for (let p = 0; p < 3; p++) swarmPicker.peerHaveAll();
const swarmSeed = Bitfield.full(SWARM_PIECES);
let m = 0;
Deno.bench("picker: pick 128 blocks over 4,096 pieces, 3 seeders", () => {
  const reqs = swarmPicker.pick({ key: `s${m++}`, has: swarmSeed, count: 128, now: m });
  if (reqs.length !== 128) throw new Error(`picked ${reqs.length}`);
  swarmPicker.release(`s${m - 1}`);
});
