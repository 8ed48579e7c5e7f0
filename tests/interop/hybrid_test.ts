/**
 * libtorrent 2's default torrent is a hybrid v1+v2 one (BEP 52) whose v1 file list carries
 * BEP 47 pad files (`.pad/N`, attr "p"). btx speaks v1 only: it must read the same v1 info hash
 * and files as libtorrent, download such a torrent from libtorrent and seed it to libtorrent,
 * without writing pad files. (aria2 1.36 computes another info hash for these torrents, so it
 * cannot join their swarms; that is aria2's limit, not tested here.)
 */
import assert from "node:assert/strict";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { assertSameTree, interopTest, type Lab, withLab } from "../helpers/real_clients.ts";
import { btxGet, btxSeed, ltCreate, ltInfo, ltLeech, ltSeed } from "./peers.ts";
import { MULTI_256K, MULTI_4M, type Shape, writeShape } from "./shapes.ts";

/** Makes the hybrid torrent and checks btx reads it as libtorrent does. */
async function hybridTorrent(lab: Lab, shape: Shape): Promise<string> {
  const source = await writeShape(lab.path("seed"), shape);
  const torrent = lab.path("hybrid.torrent");
  await ltCreate(lab, source, torrent, shape.pieceLength, undefined, true);
  const btx = parseMetainfo(await Deno.readFile(torrent));
  const lt = await ltInfo(lab, torrent);
  assert.ok(btx.files.some((f) => f.pad), "libtorrent added no pad files");
  assert.equal(btx.infoHashHex, lt.infoHash);
  assert.deepEqual(
    btx.files.filter((f) => !f.pad).map((f) => [[btx.name, ...f.path].join("/"), f.length]),
    lt.files,
  );
  return torrent;
}

interopTest(`btx get a libtorrent hybrid torrent from libtorrent: ${MULTI_256K.label}`, [
  "libtorrent",
], () =>
  withLab(async (lab) => {
    const torrent = await hybridTorrent(lab, MULTI_256K);
    const seeder = await ltSeed(lab, torrent, lab.path("seed"));
    await btxGet(lab, torrent, lab.path("out"), ["--peer", `127.0.0.1:${seeder.port}`]);
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));

interopTest(`libtorrent gets a hybrid torrent from btx seed: ${MULTI_4M.label}`, [
  "libtorrent",
], () =>
  withLab(async (lab) => {
    const torrent = await hybridTorrent(lab, MULTI_4M);
    const seeder = await btxSeed(lab, torrent, lab.path("seed"));
    const leecher = await ltLeech(lab, torrent, lab.path("out"), [`127.0.0.1:${seeder.port}`]);
    await leecher.proc.waitFor(/^DONE$/);
    await leecher.proc.stop();
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));
