// A seeder process dies (SIGKILL) in the middle of a download: the others finish it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../src/torrent/mod.ts";
import { pseudoRandomBytes, sha256File } from "../helpers/data.ts";
import { BtxProcess, startCliSeeder, startCliTracker, waitForCounts } from "./btx_process.ts";

Deno.test("a seeder killed mid-download: btx get completes from the other two", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-kill-" });
  const procs: BtxProcess[] = [];
  try {
    await Deno.mkdir(join(root, "data"));
    const file = join(root, "data", "big.bin");
    // 4 MiB from seeders capped at 512 KiB/s each: the download lasts seconds, so the kill lands
    // in the middle of it (the test checks that it did rather than assuming it).
    await Deno.writeFile(file, pseudoRandomBytes(4 * 1024 * 1024 + 1234, 99));
    const tracker = await startCliTracker(root);
    procs.push(tracker.proc);
    const { torrent, metainfo: meta } = await createTorrent(file, {
      trackers: [tracker.url],
      pieceLength: 64 * 1024,
    });
    await Deno.writeFile(join(root, "big.torrent"), torrent);
    const seeders = [];
    for (let n = 1; n <= 3; n++) {
      const seed = await startCliSeeder(
        root,
        ["big.torrent", "--data", "data", "--max-upload-rate", "512K"],
        `seed ${n}`,
      );
      procs.push(seed.proc);
      seeders.push(seed);
    }
    await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.seeders === 3);

    const get = new BtxProcess(
      [
        "get",
        "big.torrent",
        "-o",
        "out",
        "--port",
        "0",
        "--ip",
        "127.0.0.1",
        "--json",
        "--verbose",
      ],
      { cwd: root, label: "get" },
    );
    procs.push(get);
    const victim = seeders[0]!;
    const victimKey = `127.0.0.1:${victim.port}`;
    await get.waitForEvent((e) =>
      e.event === "peer" && e.peer === victimKey && e.connected === true
    );
    const midway = await get.waitForEvent((e) =>
      e.event === "progress" && e.phase === "downloading" && (e.done as number) > 0
    );
    assert.ok((midway.done as number) < meta.length, "the download ended before the kill");
    victim.proc.kill("SIGKILL");
    assert.notEqual((await victim.proc.status).success, true);

    assert.equal(await get.exitCode(), 0, get.errLines.join("\n"));
    const done = get.events.find((e) => e.event === "complete");
    assert.equal(done?.piecesHave, meta.pieceCount);
    assert.ok(
      get.events.some((e) => e.event === "peer" && e.peer === victimKey && e.connected === false),
      "get never noticed the killed seeder",
    );
    assert.equal(await sha256File(join(root, "out", "big.bin")), await sha256File(file));
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
