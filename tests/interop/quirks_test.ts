/**
 * What real clients do that btx has to accommodate, pinned with the real programs (see
 * README.md here for the list):
 * - libtorrent opens with an MSE (encrypted) handshake when encryption is merely allowed, and
 *   retries in plaintext only after the first attempt fails: btx must refuse it at once.
 * - libtorrent drops a peer silent for `peer_timeout` (120 s): btx's keep-alive must come well
 *   before that.
 * - aria2 sends no BEP 10 `reqq`, libtorrent says 2000: a full btx pipeline (its default
 *   limit, or the peer's reqq) must be answered in full, with nothing dropped.
 */
import assert from "node:assert/strict";
import { BLOCK_SIZE, parseMetainfo } from "../../src/torrent/mod.ts";
import { DEFAULT_PIPELINE_LIMIT } from "../../src/client/peers/pipeline.ts";
import {
  decodeExtendedHandshake,
  DEFAULT_KEEPALIVE_MS,
  EXTENDED_HANDSHAKE_ID,
  PeerConnection,
  WireError,
} from "../../src/wire/mod.ts";
import { utf8Bytes } from "../../src/util/bytes.ts";
import { interopTest, type Lab, LT_PEER, PYTHON, withLab } from "../helpers/real_clients.ts";
import { aria2Seed, btxCreate, ltLeech, ltSeed } from "./peers.ts";
import { SINGLE_16K, SINGLE_4M, writeShape } from "./shapes.ts";

const PEER_ID = utf8Bytes("-BX0001-quirks-test0");

async function torrentOf(lab: Lab, shape = SINGLE_16K) {
  const source = await writeShape(lab.path("seed"), shape);
  const torrent = lab.path("t.torrent");
  await btxCreate(lab, source, torrent, shape.pieceLength);
  return { torrent, meta: parseMetainfo(await Deno.readFile(torrent)) };
}

function connect(port: number, infoHash: Uint8Array, keepAliveMs?: number, tag = "0") {
  return PeerConnection.connect({
    hostname: "127.0.0.1",
    port,
    infoHash,
    // libtorrent refuses a second link from a peer id it is already connected to.
    peerId: utf8Bytes(`-BX0001-quirks-test${tag}`),
    extended: true,
    fast: true,
    timeoutMs: 10_000,
    ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
  });
}

interopTest(
  "libtorrent opens with MSE; btx refuses it at once and accepts its plaintext retry",
  ["libtorrent"],
  () =>
    withLab(async (lab) => {
      const { torrent, meta } = await torrentOf(lab);
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const lookup = (h: Uint8Array) => h.every((b, i) => b === meta.infoHash[i]);
      const options = { peerId: PEER_ID, extended: true, fast: true, lookup, timeoutMs: 20_000 };
      let accepted: PeerConnection | undefined;
      try {
        await ltLeech(lab, torrent, lab.path("out"), [`127.0.0.1:${listener.addr.port}`]);
        const first = await listener.accept();
        await assert.rejects(PeerConnection.accept(first, options), (e: unknown) => {
          // Refused for what it said, not after waiting for a handshake that never comes.
          assert.ok(e instanceof WireError && !/time/i.test(e.message), String(e));
          return true;
        });
        accepted = await PeerConnection.accept(await listener.accept(), options);
        assert.equal(new TextDecoder().decode(accepted.remotePeerId.subarray(0, 3)), "-LT");
        assert.equal(accepted.remoteExtended, true);
      } finally {
        accepted?.close();
        listener.close();
      }
    }),
);

interopTest("btx keep-alives come before libtorrent's peer timeout drops the link", [
  "libtorrent",
], () =>
  withLab(async (lab) => {
    const defaults = new Deno.Command(PYTHON, { args: [LT_PEER, "defaults"] }).outputSync();
    const { peer_timeout } = JSON.parse(new TextDecoder().decode(defaults.stdout));
    // libtorrent itself sends one at half its timeout; btx must not be later than that.
    assert.ok(DEFAULT_KEEPALIVE_MS <= (peer_timeout * 1000) / 2, `peer_timeout ${peer_timeout}`);

    // Live and scaled down: libtorrent drops a silent link after 4 s; the one whose keep-alive
    // is due after 1 s of silence stays up long after that.
    const { torrent, meta } = await torrentOf(lab);
    const seeder = lab.spawn("libtorrent seed", PYTHON, [
      LT_PEER,
      "seed",
      "--torrent",
      torrent,
      "--dir",
      lab.path("seed"),
      "--peer-timeout",
      "4",
    ]);
    const port = Number((await seeder.waitFor(/^LISTEN (\d+)$/))[1]);
    await seeder.waitFor(/^READY$/);
    const silent = await connect(port, meta.infoHash, 3_600_000);
    const alive = await connect(port, meta.infoHash, 1_000, "1");
    try {
      const silentDone = silent.run(() => {});
      const aliveDone = alive.run(() => {});
      await silentDone; // libtorrent closed it: the timeout is in force.
      assert.equal(alive.closed, false);
      // Two more timeout periods with only keep-alives from us.
      await new Promise((r) => setTimeout(r, 8_000));
      assert.equal(alive.closed, false, `closed: ${alive.closeError?.message}`);
      alive.close();
      await aliveDone;
    } finally {
      silent.close();
      alive.close();
    }
  }));

for (const client of ["aria2", "libtorrent"] as const) {
  interopTest(
    `${client} answers every request of a full btx pipeline (its reqq or btx's default)`,
    [client === "aria2" ? "aria2c" : "libtorrent"],
    () =>
      withLab(async (lab) => {
        const { torrent, meta } = await torrentOf(lab, SINGLE_4M);
        const seeder = client === "aria2"
          ? await aria2Seed(lab, torrent, lab.path("seed"))
          : await ltSeed(lab, torrent, lab.path("seed"));
        const conn = await connect(seeder.port, meta.infoHash);
        let reqq: number | undefined;
        let sent = 0;
        const blocks = new Set<string>();
        let unchoked = false;
        const done = conn.run((m) => {
          if (m.type === "extended" && m.id === EXTENDED_HANDSHAKE_ID) {
            reqq = decodeExtendedHandshake(m.payload).reqq;
          } else if (m.type === "unchoke" && !unchoked) {
            unchoked = true;
            // What btx's PipelineSizer allows at most for this peer, in full pieces' blocks.
            const limit = reqq === undefined ? DEFAULT_PIPELINE_LIMIT : Math.min(reqq, 4096);
            const available = (meta.pieceCount - 1) * (meta.pieceLength / BLOCK_SIZE);
            for (; sent < Math.min(limit, available); sent++) {
              const begin = (sent * BLOCK_SIZE) % meta.pieceLength;
              const index = Math.floor((sent * BLOCK_SIZE) / meta.pieceLength);
              conn.send({ type: "request", index, begin, length: BLOCK_SIZE });
            }
          } else if (m.type === "piece") {
            blocks.add(`${m.index}:${m.begin}`);
            if (sent > 0 && blocks.size === sent) conn.close();
          } else if (m.type === "reject") {
            conn.close();
          }
        });
        conn.send({ type: "interested" });
        const timer = setTimeout(() => conn.close(), 40_000);
        await done;
        clearTimeout(timer);
        assert.ok(sent >= DEFAULT_PIPELINE_LIMIT, `sent ${sent}`);
        assert.equal(blocks.size, sent, `${client} (reqq ${reqq}) answered ${blocks.size}/${sent}`);
        if (client === "libtorrent") assert.ok(reqq !== undefined && reqq >= sent);
      }),
  );
}
