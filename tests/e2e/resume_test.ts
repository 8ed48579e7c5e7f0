// btx get stopped with Ctrl-C (SIGINT) mid-download, then run again: it resumes from the verified
// pieces on disk and fetches only what is missing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resumePath } from "../../src/client/storage/resume.ts";
import { createTorrent } from "../../src/torrent/mod.ts";
import { compareTrees, writeTree } from "../helpers/data.ts";
import {
  BtxProcess,
  startCliSeeder,
  startCliTracker,
  trackerCounts,
  waitForCounts,
} from "./btx_process.ts";

/** Blocks in flight to one peer before the pipeline sizer has measured it (32 × 16 KiB). */
const FIRST_WINDOW = 32 * 16 * 1024;

Deno.test("btx get stopped by SIGINT exits 130, keeps verified pieces, and resumes", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-resume-" });
  const procs: BtxProcess[] = [];
  try {
    await writeTree(join(root, "data", "pair"), {
      "first.bin": 3_000_001,
      "second.bin": 3_100_000,
    });
    const tracker = await startCliTracker(root);
    procs.push(tracker.proc);
    const { torrent, metainfo: meta } = await createTorrent(join(root, "data", "pair"), {
      trackers: [tracker.url],
      pieceLength: 64 * 1024,
    });
    await Deno.writeFile(join(root, "pair.torrent"), torrent);
    // One seeder at 2 MiB/s: about 3 s for the whole torrent, and with a single peer no block is
    // ever requested twice, so the second run's byte count is exact.
    const seed = await startCliSeeder(
      root,
      ["pair.torrent", "--data", "data", "--max-upload-rate", "2M"],
      "seed",
    );
    procs.push(seed.proc);
    await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.seeders === 1);
    const getArgs = [
      "get",
      "pair.torrent",
      "-o",
      "out",
      "--port",
      "0",
      "--ip",
      "127.0.0.1",
      "--json",
    ];

    const first = new BtxProcess(getArgs, { cwd: root, label: "get (first run)" });
    procs.push(first);
    await first.waitForEvent((e) =>
      e.event === "progress" && e.phase === "downloading" && (e.done as number) > 0
    );
    await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.leechers === 1);
    first.kill("SIGINT");
    assert.equal(await first.exitCode(), 130, first.errLines.join("\n"));
    const stopped = first.events.find((e) => e.event === "stopped");
    assert.ok(stopped, "the first run printed no final stats");
    const kept = stopped.have as number;
    assert.ok((stopped.piecesHave as number) > 0 && kept < meta.length, `kept ${kept} bytes`);
    // Stopping announced `stopped` before exiting, and saved the resume file.
    // Stopped before finishing: it announced `stopped`, and no `completed` was counted.
    assert.deepEqual(await trackerCounts(tracker.url, meta.infoHashHex), {
      seeders: 1,
      leechers: 0,
      downloaded: 0,
    });
    await Deno.stat(resumePath(join(root, "out"), meta.infoHash));

    const second = new BtxProcess(getArgs, { cwd: root, label: "get (second run)" });
    procs.push(second);
    assert.equal(await second.exitCode(), 0, second.errLines.join("\n"));
    const done = second.events.find((e) => e.event === "complete");
    assert.ok(done, "the second run printed no final stats");
    // The resume file matched the files, so nothing was re-hashed: checking jumped to 100%.
    const checking = second.events.find((e) => e.phase === "checking");
    assert.ok(checking && checking.done === meta.length, `checking: ${JSON.stringify(checking)}`);
    const firstProgress = second.events.find((e) =>
      e.event === "progress" && e.phase !== "checking"
    );
    assert.ok(firstProgress && (firstProgress.done as number) >= kept, "verified pieces were lost");
    const missing = meta.length - kept;
    const downloaded = done.downloaded as number;
    assert.ok(downloaded >= missing, `second run downloaded ${downloaded} < missing ${missing}`);
    assert.ok(
      downloaded <= missing + FIRST_WINDOW,
      `second run downloaded ${downloaded}, but only ${missing} were missing`,
    );
    assert.equal(await compareTrees(join(root, "data", "pair"), join(root, "out", "pair")), 2);
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
