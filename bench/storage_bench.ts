/**
 * Storage speed on the paths a transfer uses: serving every 16 KiB block of 64 MiB in order
 * (what an uploading peer asks for), writing 64 MiB as 256 KiB pieces, and verifying them. The data lives in
 * the temp dir (page cache), so these measure our per-call overhead, not the disk.
 */
import { join } from "node:path";
import { Storage } from "../src/client/storage/storage.ts";
import { createTorrent, parseMetainfo } from "../src/torrent/mod.ts";

const SIZE = 64 * 1024 * 1024;
const PIECE = 256 * 1024;
const BLOCK = 16 * 1024;
const dir = await Deno.makeTempDir({ prefix: "btx-storage-bench-" });
const data = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
await Deno.writeFile(join(dir, "data.bin"), data);
const { torrent } = await createTorrent(join(dir, "data.bin"), { pieceLength: PIECE });
const meta = parseMetainfo(torrent);
const seeding = await Storage.open(meta, dir, { create: false });
const writeDir = join(dir, "out");
const leeching = await Storage.open(meta, writeDir);

Deno.bench("storage: readBlock every 16 KiB block of 64 MiB in order (upload path)", async () => {
  let bytes = 0;
  for (let p = 0; p < meta.pieceCount; p++) {
    for (let b = 0; b < PIECE; b += BLOCK) bytes += (await seeding.readBlock(p, b, BLOCK)).length;
  }
  if (bytes !== SIZE) throw new Error(`read ${bytes}`);
});

Deno.bench("storage: writePiece 64 MiB as 256 KiB pieces (download path)", async () => {
  for (let p = 0; p < meta.pieceCount; p++) {
    await leeching.writePiece(p, data.subarray(p * PIECE, (p + 1) * PIECE));
  }
});

// Pieces arrive in random order (rarest first): into a new file each time, sparse or
// allocated up front (StorageOptions.preallocate, the default where fallocate works).
const shuffled = Array.from({ length: SIZE / PIECE }, (_, i) => i);
for (let i = shuffled.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
}
let fresh = 0;
for (const preallocate of [false, true]) {
  Deno.bench({
    name: `storage: writePiece 64 MiB in random order into a new ${
      preallocate ? "allocated" : "sparse"
    } file`,
    group: "random-order writes",
    baseline: !preallocate,
    async fn(b) {
      const out = join(dir, `fresh-${fresh++}`);
      const s = await Storage.open(meta, out, { preallocate });
      b.start();
      for (const p of shuffled) await s.writePiece(p, data.subarray(p * PIECE, (p + 1) * PIECE));
      b.end();
      await s.close();
      await Deno.remove(out, { recursive: true });
    },
  });
}

Deno.bench("storage: verify (SHA-1) 64 MiB as 256 KiB pieces (piece hashing)", () => {
  for (let p = 0; p < meta.pieceCount; p++) {
    if (!seeding.verify(p, data.subarray(p * PIECE, (p + 1) * PIECE))) throw new Error("hash");
  }
});

globalThis.addEventListener("unload", () => {
  // deno bench has no teardown hook; closing here keeps the temp dir from piling up.
  seeding.close().catch(() => {});
  leeching.close().catch(() => {});
  Deno.removeSync(dir, { recursive: true });
});
