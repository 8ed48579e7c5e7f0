// btx tracker + 3 × btx seed + btx get, all real processes on 127.0.0.1.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { compareTrees, writeTree } from "../helpers/data.ts";
import { BtxProcess, startCliTracker, trackerCounts, waitForCounts } from "./btx_process.ts";

const PIECE = 32 * 1024;

Deno.test("btx get <infohash> from 3 btx seeders via a btx tracker: identical files, every seeder served", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-swarm-" });
  const procs: BtxProcess[] = [];
  try {
    // Pieces of 32 KiB cross every file boundary below; the last piece is short; one file is
    // empty. About 4 MiB, so with each seeder capped at 1 MiB/s no single seeder can finish the
    // download before the others are connected.
    const files = {
      "a.bin": 1_000_000,
      "empty.txt": 0,
      "sub/b.bin": 700_001,
      "sub/c.bin": 16_384,
      "z.bin": 2_500_123,
    };
    await writeTree(join(root, "data", "album"), files);
    const total = Object.values(files).reduce((a, b) => a + b, 0);
    assert.notEqual(total % PIECE, 0, "the last piece must be short");

    const tracker = await startCliTracker(root);
    procs.push(tracker.proc);
    const seedFlags = ["--tracker", tracker.url, "--port", "0", "--ip", "127.0.0.1", "--json"];
    const rate = ["--max-upload-rate", "1M"];

    // Seeder 1 makes the torrent from the folder (and publishes it); 2 and 3 serve its .torrent.
    const first = new BtxProcess(
      ["seed", "data/album", "--piece-length", "32K", ...rate, ...seedFlags],
      { cwd: root, label: "seed 1" },
    );
    procs.push(first);
    const created = await first.waitForEvent((e) => e.event === "created");
    assert.equal(created.path, join("torrents", "album.torrent"));
    const seeding = await first.waitForEvent((e) => e.event === "seeding");
    const meta = parseMetainfo(await Deno.readFile(join(root, "torrents", "album.torrent")));
    assert.equal(seeding.infoHash, meta.infoHashHex);
    assert.equal(meta.pieceLength, PIECE);
    assert.equal(meta.files.length, 5);
    assert.equal(meta.length, total);
    await first.waitForEvent((e) => e.event === "ready");
    for (const n of [2, 3]) {
      const seed = new BtxProcess(
        ["seed", "torrents/album.torrent", "--data", "data", ...rate, ...seedFlags],
        { cwd: root, label: `seed ${n}` },
      );
      procs.push(seed);
      const ready = await seed.waitForEvent((e) => e.event === "seeding");
      assert.equal(ready.pieces, meta.pieceCount, `seeder ${n} verified all pieces`);
    }
    const seeders = procs.slice(1);
    await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.seeders === 3);

    // The downloader knows only the info hash: the .torrent comes from the tracker's /torrents.
    const get = new BtxProcess(
      [
        "get",
        meta.infoHashHex,
        "--tracker",
        tracker.url,
        "-o",
        "out",
        "--port",
        "0",
        "--ip",
        "127.0.0.1",
        "--json",
      ],
      { cwd: root, label: "get" },
    );
    procs.push(get);
    assert.equal(await get.exitCode(), 0, get.errLines.join("\n"));
    const done = get.events.find((e) => e.event === "complete");
    assert.ok(done, "get printed no final stats");
    assert.equal(done.piecesHave, meta.pieceCount);
    assert.equal(done.have, total);
    assert.ok((done.downloaded as number) >= total);
    // get announced `completed` before it exited: the tracker counted the download (BEP 48).
    assert.equal((await trackerCounts(tracker.url, meta.infoHashHex))?.downloaded, 1);
    assert.equal(await compareTrees(join(root, "data", "album"), join(root, "out", "album")), 5);
    assert.equal((await Deno.stat(join(root, "out", "album", "empty.txt"))).size, 0);

    // Each seeder reports what it uploaded when stopped; every one of them served blocks.
    let served = 0;
    for (const seed of seeders) {
      seed.kill("SIGINT");
      assert.equal(await seed.exitCode(), 0, seed.errLines.join("\n"));
      const stopped = seed.events.find((e) => e.event === "stopped");
      assert.ok(stopped, `${seed.label} printed no final stats`);
      const uploaded = stopped.uploaded as number;
      assert.ok(uploaded > 0, `${seed.label} served no block`);
      served += uploaded;
    }
    assert.ok(served >= total, `seeders served ${served} of ${total} bytes`);
    // Stopped seeders announced `stopped`: the tracker no longer lists them.
    await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.seeders === 0);
    tracker.proc.kill("SIGINT");
    assert.equal(await tracker.proc.exitCode(), 0);
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
