/**
 * Case 5: one swarm mixing implementations. A libtorrent seeder and a btx seeder serve a btx
 * downloader and a libtorrent downloader at the same time; everyone knows only `btx tracker`.
 * Both downloads are compared byte for byte, and btx's downloader must have connected to both
 * seeders. Then `btx get` from a libtorrent and an aria2 seeder at once.
 */
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { assertSameTree, interopTest, waitForSeeders, withLab } from "../helpers/real_clients.ts";
import {
  aria2Seed,
  btxGetStart,
  btxSeed,
  btxTracker,
  ltCreate,
  ltLeech,
  ltSeed,
  mktorrent,
} from "./peers.ts";
import { type Shape, writeShape } from "./shapes.ts";

const MiB = 1024 * 1024;
const SWARM_DATA: Shape = {
  label: "multi-file with an empty file, 256 KiB pieces, 6 MiB",
  name: "mix",
  pieceLength: 256 * 1024,
  files: { "x.bin": 4 * MiB + 1, "e/empty": 0, "y.bin": 2 * MiB - 3 },
};

// Capped seeders make the download last a few seconds, so it cannot finish from one seeder
// before the other's handshake is done (aria2 answers on its own tick).
const THROTTLE_LT = ["--upload-limit", String(2 * MiB)];
const THROTTLE_BTX = ["--max-upload-rate", "2M"];

interopTest(
  "mixed swarm: libtorrent + btx seeders serve a btx and a libtorrent downloader at once",
  ["libtorrent"],
  () =>
    withLab(async (lab) => {
      const tracker = await btxTracker(lab);
      const source = await writeShape(lab.path("seed-lt"), SWARM_DATA);
      await writeShape(lab.path("seed-btx"), SWARM_DATA);
      const torrent = lab.path("t.torrent");
      await ltCreate(lab, source, torrent, SWARM_DATA.pieceLength, tracker.url);
      const { infoHash } = parseMetainfo(await Deno.readFile(torrent));

      const ltSeeder = await ltSeed(lab, torrent, lab.path("seed-lt"), [], THROTTLE_LT);
      const btxSeeder = await btxSeed(lab, torrent, lab.path("seed-btx"), THROTTLE_BTX);
      await waitForSeeders(tracker.url, infoHash, 2);

      const btxDownload = btxGetStart(lab, torrent, lab.path("out-btx"), ["--verbose"]);
      const ltDownload = await ltLeech(lab, torrent, lab.path("out-lt"));
      const [code] = await Promise.all([
        btxDownload.exited(),
        ltDownload.proc.waitFor(/^DONE$/),
      ]);
      if (code !== 0) throw new Error(`btx get exited ${code}\n${btxDownload.log()}`);
      await ltDownload.proc.stop();

      await assertSameTree(lab.path("seed-lt"), lab.path("out-btx"));
      await assertSameTree(lab.path("seed-lt"), lab.path("out-lt"));
      assertConnected(btxDownload.lines, [ltSeeder.port, btxSeeder.port]);
    }),
);

interopTest(
  "btx get from a libtorrent and an aria2 seeder at once, via btx tracker",
  ["libtorrent", "aria2c", "mktorrent"],
  () =>
    withLab(async (lab) => {
      const tracker = await btxTracker(lab);
      const source = await writeShape(lab.path("seed-lt"), SWARM_DATA);
      await writeShape(lab.path("seed-aria2"), SWARM_DATA);
      const torrent = lab.path("t.torrent");
      await mktorrent(lab, source, torrent, SWARM_DATA.pieceLength, tracker.url);
      const { infoHash } = parseMetainfo(await Deno.readFile(torrent));

      const ltSeeder = await ltSeed(lab, torrent, lab.path("seed-lt"), [], THROTTLE_LT);
      const aria2Seeder = await aria2Seed(lab, torrent, lab.path("seed-aria2"));
      await waitForSeeders(tracker.url, infoHash, 2);

      const download = btxGetStart(lab, torrent, lab.path("out"), ["--verbose"]);
      const code = await download.exited();
      if (code !== 0) throw new Error(`btx get exited ${code}\n${download.log()}`);
      await assertSameTree(lab.path("seed-lt"), lab.path("out"));
      assertConnected(download.lines, [ltSeeder.port, aria2Seeder.port]);
    }),
);

/** Throws unless `btx get --json --verbose` output shows a connection to every port. */
function assertConnected(lines: string[], ports: number[]): void {
  const connected = lines
    .filter((l) => l.startsWith('{"event":"peer"'))
    .map((l) => JSON.parse(l) as { peer: string; connected: boolean })
    .filter((e) => e.connected)
    .map((e) => e.peer);
  for (const port of ports) {
    if (!connected.includes(`127.0.0.1:${port}`)) {
      throw new Error(`btx get never connected to seeder :${port}; peers: ${connected}`);
    }
  }
}
