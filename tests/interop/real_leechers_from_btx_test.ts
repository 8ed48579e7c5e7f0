/**
 * Case 2: real clients download from `btx seed`, over every torrent shape. libtorrent is told
 * btx's address directly (trackerless torrent, so this is the peer wire protocol alone) and it
 * opens with its default encryption policy ("enabled": it may try an MSE handshake first);
 * aria2 cannot be given a peer, so it finds btx through `btx tracker`. Data is compared byte
 * for byte.
 */
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { assertSameTree, interopTest, waitForSeeders, withLab } from "../helpers/real_clients.ts";
import { aria2Leech, btxCreate, btxSeed, btxTracker, ltLeech } from "./peers.ts";
import { SHAPES, writeShape } from "./shapes.ts";

for (const shape of SHAPES) {
  interopTest(
    `libtorrent downloads from btx seed: ${shape.label}`,
    ["libtorrent"],
    () =>
      withLab(async (lab) => {
        const source = await writeShape(lab.path("seed"), shape);
        const torrent = lab.path("t.torrent");
        await btxCreate(lab, source, torrent, shape.pieceLength);
        const seeder = await btxSeed(lab, torrent, lab.path("seed"));
        const leecher = await ltLeech(lab, torrent, lab.path("out"), [`127.0.0.1:${seeder.port}`]);
        await leecher.proc.waitFor(/^DONE$/);
        await leecher.proc.stop();
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );

  interopTest(
    `aria2 downloads from btx seed via btx tracker: ${shape.label}`,
    ["aria2c"],
    () =>
      withLab(async (lab) => {
        const tracker = await btxTracker(lab);
        const source = await writeShape(lab.path("seed"), shape);
        const torrent = lab.path("t.torrent");
        await btxCreate(lab, source, torrent, shape.pieceLength, tracker.url);
        await btxSeed(lab, torrent, lab.path("seed"));
        const { infoHash } = parseMetainfo(await Deno.readFile(torrent));
        await waitForSeeders(tracker.url, infoHash, 1);
        const leecher = await aria2Leech(lab, torrent, lab.path("out"));
        const code = await leecher.exited();
        if (code !== 0) throw new Error(`aria2c exited ${code}\n${leecher.log()}`);
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );
}
