/**
 * Case 1: `btx get` downloads from a real seeder, a libtorrent one and an aria2 one, over every
 * torrent shape. The torrents are trackerless (made by libtorrent or mktorrent); btx is told the
 * seeder's address with --peer, so this is the peer wire protocol alone. Data is compared byte
 * for byte.
 */
import { assertSameTree, interopTest, type Tool, withLab } from "../helpers/real_clients.ts";
import { aria2Seed, btxGet, ltSeed, type Maker, makeTorrent } from "./peers.ts";
import { SHAPES, writeShape } from "./shapes.ts";

for (const shape of SHAPES) {
  // mktorrent 1.1 refuses pieces under 32 KiB.
  const maker: Maker & Tool = shape.pieceLength < 32 * 1024 ? "libtorrent" : "mktorrent";

  interopTest(
    `btx get from a libtorrent seeder: ${shape.label}`,
    ["libtorrent", maker],
    () =>
      withLab(async (lab) => {
        const source = await writeShape(lab.path("seed"), shape);
        const torrent = lab.path("t.torrent");
        await makeTorrent(lab, maker, source, torrent, shape.pieceLength);
        const seeder = await ltSeed(lab, torrent, lab.path("seed"));
        await btxGet(lab, torrent, lab.path("out"), ["--peer", `127.0.0.1:${seeder.port}`]);
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );

  interopTest(
    `btx get from an aria2 seeder: ${shape.label}`,
    ["aria2c", maker],
    () =>
      withLab(async (lab) => {
        const source = await writeShape(lab.path("seed"), shape);
        const torrent = lab.path("t.torrent");
        await makeTorrent(lab, maker, source, torrent, shape.pieceLength);
        const seeder = await aria2Seed(lab, torrent, lab.path("seed"));
        await btxGet(lab, torrent, lab.path("out"), ["--peer", `127.0.0.1:${seeder.port}`]);
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );
}
