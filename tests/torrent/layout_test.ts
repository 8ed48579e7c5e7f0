import assert from "node:assert/strict";
import { BLOCK_SIZE, FileLayout } from "../../src/torrent/layout.ts";
import type { TorrentFile } from "../../src/torrent/types.ts";

function layoutOf(lengths: number[], pieceLength: number, pads: number[] = []): FileLayout {
  let offset = 0;
  const files: TorrentFile[] = lengths.map((length, i) => {
    const f = { path: [`f${i}`], length, offset, pad: pads.includes(i) };
    offset += length;
    return f;
  });
  return new FileLayout({
    files,
    pieceLength,
    length: offset,
    pieceCount: Math.ceil(offset / pieceLength),
  });
}

Deno.test("layout: pieces spanning several files map to consecutive stretches", () => {
  // Files of 5, 3, 10 bytes with 4-byte pieces: piece 1 = f0[4..5) + f1[0..3).
  const l = layoutOf([5, 3, 10], 4);
  assert.equal(l.pieceCount, 5);
  assert.deepEqual(l.ranges(1), [
    { fileIndex: 0, fileOffset: 4, length: 1, pieceOffset: 0 },
    { fileIndex: 1, fileOffset: 0, length: 3, pieceOffset: 1 },
  ]);
  assert.deepEqual(l.ranges(2), [{ fileIndex: 2, fileOffset: 0, length: 4, pieceOffset: 0 }]);
  // A sub-range keeps piece offsets relative to the piece, not to `begin`.
  assert.deepEqual(l.ranges(1, 2, 1), [{ fileIndex: 1, fileOffset: 1, length: 1, pieceOffset: 2 }]);
});

Deno.test("layout: short last piece and its blocks", () => {
  const l = layoutOf([3 * BLOCK_SIZE + 100], 2 * BLOCK_SIZE);
  assert.equal(l.pieceCount, 2);
  assert.equal(l.pieceSize(0), 2 * BLOCK_SIZE);
  assert.equal(l.pieceSize(1), BLOCK_SIZE + 100);
  assert.equal(l.blockCount(1), 2);
  assert.equal(l.blockSize(1, 0), BLOCK_SIZE);
  assert.equal(l.blockSize(1, 1), 100);
  assert.throws(() => l.blockSize(1, 2), RangeError);
  assert.throws(() => l.pieceSize(2), RangeError);
  assert.throws(() => l.ranges(1, 0, BLOCK_SIZE + 101), RangeError);
});

Deno.test("layout: empty files never appear in ranges", () => {
  const l = layoutOf([0, 4, 0, 0, 4, 0], 3);
  const all = Array.from({ length: l.pieceCount }, (_, i) => l.ranges(i)).flat();
  assert.ok(all.every((r) => r.length > 0));
  assert.deepEqual(all.map((r) => r.fileIndex), [1, 1, 4, 4]);
  assert.deepEqual(l.ranges(1), [
    { fileIndex: 1, fileOffset: 3, length: 1, pieceOffset: 0 },
    { fileIndex: 4, fileOffset: 0, length: 2, pieceOffset: 1 },
  ]);
  assert.equal(l.piecesOfFile(0), undefined);
  assert.deepEqual(l.piecesOfFile(4), { first: 1, last: 2 });
});

Deno.test("layout: pad files are mapped so storage can skip them", () => {
  // BEP 47: 6-byte file padded to the 8-byte piece boundary, then a 5-byte file.
  const l = layoutOf([6, 2, 5], 8, [1]);
  assert.deepEqual(l.ranges(0).map((r) => [r.fileIndex, l.files[r.fileIndex]!.pad]), [
    [0, false],
    [1, true],
  ]);
  assert.deepEqual(l.ranges(1), [{ fileIndex: 2, fileOffset: 0, length: 5, pieceOffset: 0 }]);
});

Deno.test("layout: every byte maps to exactly one file position", () => {
  const lengths = [7, 0, 13, 1, 0, 29, 2];
  const l = layoutOf(lengths, 5);
  const seen: string[] = [];
  for (let i = 0; i < l.pieceCount; i++) {
    let expectOffset = 0;
    for (const r of l.ranges(i)) {
      assert.equal(r.pieceOffset, expectOffset);
      expectOffset += r.length;
      for (let k = 0; k < r.length; k++) seen.push(`${r.fileIndex}:${r.fileOffset + k}`);
    }
    assert.equal(expectOffset, l.pieceSize(i));
  }
  const expected = lengths.flatMap((n, fi) => Array.from({ length: n }, (_, k) => `${fi}:${k}`));
  assert.deepEqual(seen, expected);
});

Deno.test("layout: inconsistent metainfo is rejected", () => {
  assert.throws(
    () =>
      new FileLayout({
        files: [{ path: ["a"], length: 10, offset: 0, pad: false }],
        pieceLength: 4,
        length: 10,
        pieceCount: 2,
      }),
    RangeError,
  );
});
