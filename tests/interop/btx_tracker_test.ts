/**
 * Case 3: both sides know only `btx tracker` (the torrent's announce URL): a real client seeds
 * and `btx get` downloads, and the reverse, `btx seed` to a real downloader. Torrents come from
 * the three makers in turn. Data is compared byte for byte.
 */
import { parseMetainfo } from "../../src/torrent/mod.ts";
import {
  assertSameTree,
  interopTest,
  type Lab,
  type Tool,
  waitForSeeders,
  withLab,
} from "../helpers/real_clients.ts";
import {
  aria2Leech,
  aria2Seed,
  btxGet,
  btxSeed,
  btxTracker,
  ltLeech,
  ltSeed,
  type Maker,
  makeTorrent,
} from "./peers.ts";
import { MULTI_256K, MULTI_4M, type Shape, writeShape } from "./shapes.ts";

type Client = "libtorrent" | "aria2c";
const A_CLIENT: Record<Client, string> = { libtorrent: "a libtorrent", aria2c: "an aria2" };
const CLIENT: Record<Client, string> = { libtorrent: "libtorrent", aria2c: "aria2" };

/** Writes the data, starts `btx tracker`, makes the torrent with its announce URL. */
async function setUp(lab: Lab, shape: Shape, maker: Maker) {
  const tracker = await btxTracker(lab);
  const source = await writeShape(lab.path("seed"), shape);
  const torrent = lab.path("t.torrent");
  await makeTorrent(lab, maker, source, torrent, shape.pieceLength, tracker.url);
  const { infoHash } = parseMetainfo(await Deno.readFile(torrent));
  return { tracker, torrent, infoHash };
}

function realSeederToBtx(client: Client, shape: Shape, maker: Maker & Tool) {
  interopTest(
    `btx get from ${A_CLIENT[client]} seeder, both via btx tracker only: ${shape.label}`,
    [client, maker],
    () =>
      withLab(async (lab) => {
        const { tracker, torrent, infoHash } = await setUp(lab, shape, maker);
        if (client === "libtorrent") await ltSeed(lab, torrent, lab.path("seed"));
        else await aria2Seed(lab, torrent, lab.path("seed"));
        await waitForSeeders(tracker.url, infoHash, 1);
        await btxGet(lab, torrent, lab.path("out"));
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );
}

function btxSeedToReal(client: Client, shape: Shape, maker: Maker) {
  const tools: Tool[] = maker === "btx" ? [client] : [client, maker];
  interopTest(
    `${CLIENT[client]} downloads from btx seed, both via btx tracker only: ${shape.label}`,
    tools,
    () =>
      withLab(async (lab) => {
        const { tracker, torrent, infoHash } = await setUp(lab, shape, maker);
        await btxSeed(lab, torrent, lab.path("seed"));
        await waitForSeeders(tracker.url, infoHash, 1);
        if (client === "libtorrent") {
          const leecher = await ltLeech(lab, torrent, lab.path("out"));
          await leecher.proc.waitFor(/^DONE$/);
          await leecher.proc.stop();
        } else {
          const leecher = await aria2Leech(lab, torrent, lab.path("out"));
          const code = await leecher.exited();
          if (code !== 0) throw new Error(`aria2c exited ${code}\n${leecher.log()}`);
        }
        await assertSameTree(lab.path("seed"), lab.path("out"));
      }),
  );
}

realSeederToBtx("libtorrent", MULTI_256K, "mktorrent");
realSeederToBtx("aria2c", MULTI_4M, "libtorrent");
btxSeedToReal("libtorrent", MULTI_4M, "btx");
btxSeedToReal("aria2c", MULTI_256K, "mktorrent");
