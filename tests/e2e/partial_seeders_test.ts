// Three partial seeders, each holding a different third of the pieces: only a downloader that
// talks to all of them at once and tracks who has what can finish.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { TorrentSession } from "../../src/client/session/session.ts";
import { createTorrent, type Metainfo } from "../../src/torrent/mod.ts";
import { compareTrees, writeTree } from "../helpers/data.ts";

const LOOPBACK = "127.0.0.1";
const PIECE = 16 * 1024;

/** Which third of the pieces seeder `k` holds: contiguous ranges, so rarity really differs. */
function third(meta: Metainfo, k: number): { from: number; to: number } {
  const n = meta.pieceCount;
  return { from: Math.floor((k * n) / 3), to: Math.floor(((k + 1) * n) / 3) };
}

/** Copies the torrent's files from `src` to `dst`, zeroing every byte outside pieces from..to. */
async function writePartialCopy(meta: Metainfo, src: string, dst: string, keep: [number, number]) {
  const [from, to] = [
    keep[0] * meta.pieceLength,
    Math.min(keep[1] * meta.pieceLength, meta.length),
  ];
  for (const f of meta.files) {
    const data = await Deno.readFile(join(src, meta.name, ...f.path));
    // Bytes of this file that fall outside [from, to) of the concatenated data.
    for (let i = 0; i < data.length; i++) {
      const at = f.offset + i;
      if (at < from || at >= to) data[i] = 0;
    }
    const path = join(dst, meta.name, ...f.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, data);
  }
}

Deno.test("3 partial seeders with a different third each: the download completes", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-partial-" });
  const closers: (() => Promise<void>)[] = [];
  try {
    const src = join(root, "src");
    await writeTree(join(src, "set"), {
      "one.bin": 150_001,
      "two.bin": 99_999,
      "three.bin": 77_777,
    });
    const { metainfo: meta } = await createTorrent(join(src, "set"), { pieceLength: PIECE });
    const seeders = [];
    for (let k = 0; k < 3; k++) {
      const { from, to } = third(meta, k);
      const dir = join(root, `seed${k}`);
      await writePartialCopy(meta, src, dir, [from, to]);
      const client = Client.start({ port: 0, hostname: LOOPBACK });
      closers.push(() => client.close());
      const session = await TorrentSession.start(client, meta, {
        dir,
        seed: true,
        download: false,
        existingData: true,
        trackers: [],
      });
      closers.push(() => session.stop());
      // The check found exactly this seeder's third (the zeroed pieces fail their hashes).
      const have = [...session.picker.have.indexes()];
      assert.deepEqual(have, Array.from({ length: to - from }, (_, i) => from + i));
      let bytes = 0;
      for (let i = from; i < to; i++) bytes += session.storage.layout.pieceSize(i);
      seeders.push({ session, bytes, address: { hostname: LOOPBACK, port: client.port } });
    }

    const client = Client.start({ port: 0, hostname: LOOPBACK });
    closers.push(() => client.close());
    const out = join(root, "out");
    const downloader = await TorrentSession.start(client, meta, {
      dir: out,
      trackers: [],
      peers: seeders.map((s) => s.address),
      // Small, so pieces start and finish throughout the transfer rather than all at once.
      maxUnverifiedBytes: 3 * PIECE,
    });
    // The scheduler's invariants (SCHEDULER.md) hold after every block and every verified piece
    // of a real transfer. Wrapped before any peer is connected (dials are asynchronous).
    let checks = 0;
    const picker = downloader.picker;
    for (const method of ["received", "verified", "pick", "release"] as const) {
      const original = picker[method].bind(picker) as (...a: unknown[]) => unknown;
      Object.defineProperty(picker, method, {
        value: (...args: unknown[]) => {
          const result = original(...args);
          try {
            picker.checkInvariants();
          } catch (e) {
            downloader.fail(e); // ends the wait below with this error
            throw e;
          }
          checks++;
          return result;
        },
      });
    }
    closers.push(() => downloader.stop());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      downloader.complete.then(() => "ok"),
      downloader.failed,
      new Promise((r) => (timer = setTimeout(() => r(new Error("no completion in 60 s")), 60_000))),
    ]).finally(() => clearTimeout(timer));
    if (outcome instanceof Error) throw outcome;
    await downloader.stop();
    assert.equal(downloader.stats().piecesHave, meta.pieceCount);
    // At least one check per block received.
    assert.ok(checks >= Math.ceil(meta.length / (16 * 1024)), `${checks} checks`);
    assert.equal(await compareTrees(join(src, "set"), join(out, "set")), 3);
    // Nobody else had a seeder's third, so each served at least all of it.
    for (const [k, s] of seeders.entries()) {
      assert.ok(
        s.session.uploaded >= s.bytes,
        `seeder ${k} served ${s.session.uploaded} < ${s.bytes}`,
      );
    }
  } finally {
    for (const close of closers.reverse()) await close();
    await Deno.remove(root, { recursive: true });
  }
});
