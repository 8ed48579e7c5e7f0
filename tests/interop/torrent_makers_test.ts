/**
 * Case 6: torrents made by mktorrent, libtorrent and btx are read identically by btx,
 * libtorrent and aria2: one info hash per torrent whoever reads it, the same files, piece
 * length and piece count. The three makers also agree with each other on the info dict of the
 * same data (same hash), so a btx-made torrent joins swarms started from the others'.
 * mktorrent 1.1 refuses pieces under 32 KiB, so it sits out the 16 KiB shape.
 */
import assert from "node:assert/strict";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { interopTest, type Tool, withLab } from "../helpers/real_clients.ts";
import { aria2InfoHash, ltInfo, type Maker, makeTorrent } from "./peers.ts";
import { MULTI_256K, MULTI_4M, SINGLE_16K, SINGLE_4M, totalLength, writeShape } from "./shapes.ts";

for (const shape of [SINGLE_16K, MULTI_256K, SINGLE_4M, MULTI_4M]) {
  const makers: Maker[] = shape.pieceLength >= 32 * 1024
    ? ["btx", "libtorrent", "mktorrent"]
    : ["btx", "libtorrent"];
  const tools: Tool[] = [
    "libtorrent",
    "aria2c",
    ...(makers.includes("mktorrent") ? ["mktorrent" as const] : []),
  ];

  interopTest(
    `torrents by ${makers.join(", ")} read alike everywhere: ${shape.label}`,
    tools,
    () =>
      withLab(async (lab) => {
        const source = await writeShape(lab.path("data"), shape);
        const hashes = new Map<Maker, string>();
        for (const maker of makers) {
          const torrent = lab.path(`${maker}.torrent`);
          await makeTorrent(lab, maker, source, torrent, shape.pieceLength);
          const btx = parseMetainfo(await Deno.readFile(torrent));
          const lt = await ltInfo(lab, torrent);
          const aria2 = await aria2InfoHash(lab, torrent);

          const what = `${maker}-made torrent`;
          assert.equal(lt.infoHash, btx.infoHashHex, `${what}: libtorrent vs btx info hash`);
          assert.equal(aria2, btx.infoHashHex, `${what}: aria2 vs btx info hash`);
          assert.equal(btx.name, shape.name, what);
          assert.equal(lt.name, shape.name, what);
          assert.equal(btx.pieceLength, shape.pieceLength, what);
          assert.equal(lt.pieceLength, shape.pieceLength, what);
          assert.equal(btx.length, totalLength(shape), what);
          assert.equal(lt.length, totalLength(shape), what);
          const pieces = Math.ceil(totalLength(shape) / shape.pieceLength);
          assert.equal(btx.pieceCount, pieces, what);
          assert.equal(lt.pieceCount, pieces, what);
          // libtorrent lists multi-file paths under the torrent's name; btx keeps them relative.
          const btxFiles = btx.files.filter((f) => !f.pad).map((f) => [
            (btx.multiFile ? [btx.name, ...f.path] : f.path).join("/"),
            f.length,
          ]);
          assert.deepEqual(btxFiles, lt.files, `${what}: file list`);
          const expected = Object.entries(shape.files)
            .map(([p, n]) => [p === "" ? shape.name : `${shape.name}/${p}`, n])
            .sort();
          assert.deepEqual([...lt.files].sort(), expected, `${what}: files of the data`);
          hashes.set(maker, btx.infoHashHex);
        }
        assert.equal(
          new Set(hashes.values()).size,
          1,
          `makers disagree: ${JSON.stringify([...hashes])}`,
        );
      }),
  );
}
