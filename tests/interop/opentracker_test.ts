/**
 * Case 4: btx seeds and downloads through opentracker, a third-party tracker (Debian's build is
 * whitelist-only, so each torrent's hash is whitelisted). btx to btx, btx to libtorrent and
 * aria2 to btx, with torrents from mktorrent and btx; and a mktorrent announce-list whose first
 * tier is dead (BEP 12). Data is compared byte for byte.
 */
import assert from "node:assert/strict";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import {
  assertSameTree,
  freePort,
  interopTest,
  type Lab,
  waitForSeeders,
  withLab,
} from "../helpers/real_clients.ts";
import {
  aria2Seed,
  btxGet,
  btxSeed,
  ltLeech,
  ltSeed,
  type Maker,
  makeTorrent,
  mktorrent,
  opentracker,
} from "./peers.ts";
import { MULTI_256K, type Shape, SINGLE_16K, SINGLE_4M, writeShape } from "./shapes.ts";

/**
 * opentracker reads its whitelist when it starts, before its URL (port) is known. The announce
 * URL is outside the info dict, so a trackerless copy made first has the same info hash; that
 * is checked, not assumed.
 */
async function setUp(lab: Lab, shape: Shape, maker: Maker) {
  const source = await writeShape(lab.path("seed"), shape);
  const probe = lab.path("probe.torrent");
  await makeTorrent(lab, maker, source, probe, shape.pieceLength);
  const { infoHash } = parseMetainfo(await Deno.readFile(probe));
  const tracker = await opentracker(lab, [infoHash]);
  const torrent = lab.path("t.torrent");
  await makeTorrent(lab, maker, source, torrent, shape.pieceLength, tracker.url);
  const meta = parseMetainfo(await Deno.readFile(torrent));
  if (meta.infoHashHex !== parseMetainfo(await Deno.readFile(probe)).infoHashHex) {
    throw new Error(`${maker}: adding a tracker changed the info hash`);
  }
  return { tracker, torrent, infoHash };
}

interopTest(`btx seed to btx get through opentracker: ${MULTI_256K.label}`, [
  "opentracker",
  "mktorrent",
], () =>
  withLab(async (lab) => {
    const { tracker, torrent, infoHash } = await setUp(lab, MULTI_256K, "mktorrent");
    await btxSeed(lab, torrent, lab.path("seed"));
    await waitForSeeders(tracker.url, infoHash, 1);
    await btxGet(lab, torrent, lab.path("out"));
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));

interopTest(`libtorrent downloads from btx seed through opentracker: ${SINGLE_16K.label}`, [
  "opentracker",
  "libtorrent",
], () =>
  withLab(async (lab) => {
    const { tracker, torrent, infoHash } = await setUp(lab, SINGLE_16K, "btx");
    await btxSeed(lab, torrent, lab.path("seed"));
    await waitForSeeders(tracker.url, infoHash, 1);
    const leecher = await ltLeech(lab, torrent, lab.path("out"));
    await leecher.proc.waitFor(/^DONE$/);
    await leecher.proc.stop();
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));

interopTest(`btx get from an aria2 seeder through opentracker: ${SINGLE_4M.label}`, [
  "opentracker",
  "aria2c",
  "mktorrent",
], () =>
  withLab(async (lab) => {
    const { tracker, torrent, infoHash } = await setUp(lab, SINGLE_4M, "mktorrent");
    await aria2Seed(lab, torrent, lab.path("seed"));
    await waitForSeeders(tracker.url, infoHash, 1);
    await btxGet(lab, torrent, lab.path("out"));
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));

interopTest(`btx get skips a dead first tier to reach opentracker: ${MULTI_256K.label}`, [
  "opentracker",
  "mktorrent",
  "libtorrent",
], () =>
  withLab(async (lab) => {
    const source = await writeShape(lab.path("seed"), MULTI_256K);
    const probe = lab.path("probe.torrent");
    await mktorrent(lab, source, probe, MULTI_256K.pieceLength);
    const { infoHash } = parseMetainfo(await Deno.readFile(probe));
    const tracker = await opentracker(lab, [infoHash]);
    // Nothing listens on the first tier's port: refused at once, so the next tier is asked.
    const dead = `http://127.0.0.1:${freePort()}/announce`;
    const torrent = lab.path("t.torrent");
    await mktorrent(lab, source, torrent, MULTI_256K.pieceLength, [dead, tracker.url]);
    const meta = parseMetainfo(await Deno.readFile(torrent));
    assert.deepEqual(meta.announceList, [[dead], [tracker.url]]);
    await ltSeed(lab, torrent, lab.path("seed"));
    await waitForSeeders(tracker.url, infoHash, 1);
    await btxGet(lab, torrent, lab.path("out"));
    await assertSameTree(lab.path("seed"), lab.path("out"));
  }));
