import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { TorrentSession } from "../../src/client/session/session.ts";
import { type Metainfo, parseMetainfo } from "../../src/torrent/mod.ts";
import { type RunningTracker, startTracker } from "../../src/tracker/server/mod.ts";
import { equals } from "../../src/util/bytes.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { btx, content, handTorrent, withTempDir } from "./helpers.ts";
import { within } from "./swarm.ts";

// Faults around a download: trackers and seeders that go away and come back, a full disk, an
// output folder that cannot be written. Either the download completes, or btx stops with one
// clear line and a non-zero exit, keeping what it verified.

const PIECE = 32 * 1024;
const DATA = content(4 * 1024 * 1024 + 777, 31337);

/** A port that was free a moment ago (for a tracker that starts later on a known URL). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function torrentFor(announce?: string): { bytes: Uint8Array; meta: Metainfo } {
  const bytes = handTorrent("fault.bin", DATA, PIECE, announce ? { announce } : {});
  return { bytes, meta: parseMetainfo(bytes) };
}

async function session(meta: Metainfo, dir: string, extra: { maxUploadRate?: number } = {}) {
  const client = Client.start({ port: 0, hostname: "127.0.0.1" });
  const warnings: string[] = [];
  const s = await TorrentSession.start(client, meta, {
    dir,
    seed: true,
    onEvent: (e) => e.type === "warning" && warnings.push(e.message),
    ...extra,
  });
  return {
    s,
    warnings,
    async close() {
      await s.stop();
      await client.close();
    },
  };
}

async function until(cond: () => boolean, what: string) {
  await within(
    (async () => {
      while (!cond()) await new Promise((r) => setTimeout(r, 10));
    })(),
    what,
  );
}

const scrapeComplete = async (t: RunningTracker, meta: Metainfo) => {
  const hash = [...meta.infoHash].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
  const res = await fetch(`http://127.0.0.1:${t.port}/scrape?info_hash=${hash}`);
  const text = await res.text();
  return Number(/8:completei(\d+)e/.exec(text)?.[1] ?? -1);
};

Deno.test("tracker down at start: the leecher retries with backoff and completes once it is up", () =>
  withTempDir(async (root) => {
    const port = freePort();
    const { meta } = torrentFor(`http://127.0.0.1:${port}/announce`);
    await Deno.mkdir(join(root, "seed"));
    await Deno.writeFile(join(root, "seed", meta.name), DATA);
    const closers: (() => Promise<void>)[] = [];
    try {
      const leecher = await session(meta, join(root, "out"));
      closers.push(() => leecher.close());
      await until(() => leecher.warnings.length > 0, "the first failed announce");
      assert.equal(leecher.s.peers.size, 0);
      // The tracker comes up on the announced URL, then a seeder joins through it. The leecher
      // learns of the seeder only by announcing again (its first retry is after 10 s).
      const tracker = await startTracker({ host: "127.0.0.1", port });
      closers.push(() => tracker.close());
      const seeder = await session(meta, join(root, "seed"));
      closers.push(() => seeder.close());
      await within(leecher.s.complete, "the download after the tracker came up");
      assert.ok(equals(await Deno.readFile(join(root, "out", meta.name)), DATA));
    } finally {
      for (const close of closers.reverse()) await close();
    }
  }));

Deno.test("tracker restarted mid-download, seeder gone then back: completes, new tracker told", () =>
  withTempDir(async (root) => {
    const port = freePort();
    let tracker = await startTracker({ host: "127.0.0.1", port });
    const { meta } = torrentFor(`http://127.0.0.1:${port}/announce`);
    await Deno.mkdir(join(root, "seed"));
    await Deno.writeFile(join(root, "seed", meta.name), DATA);
    const closers: (() => Promise<void>)[] = [() => tracker.close()];
    try {
      // Paced at 2 MiB/s: the 4 MiB download lasts about two seconds.
      let seeder = await session(meta, join(root, "seed"), { maxUploadRate: 2 * 1024 * 1024 });
      const leecher = await session(meta, join(root, "out"));
      closers.push(() => leecher.close());
      await until(() => leecher.s.haveBytes > 256 * 1024, "some progress");
      // The tracker restarts with an empty memory; the only seeder leaves.
      await tracker.close();
      tracker = await startTracker({ host: "127.0.0.1", port });
      await seeder.close();
      await until(() => leecher.s.peers.size === 0, "the seeder's disconnect");
      const stalledAt = leecher.s.haveBytes;
      assert.ok(stalledAt < meta.length, "finished before the seeder left");
      // The seeder comes back. The leecher would find it again at its next announce or its
      // next redial of the old address (30 s and more away), so the test hands it over.
      seeder = await session(meta, join(root, "seed"));
      closers.push(() => seeder.close());
      leecher.s.addPeers([{ hostname: "127.0.0.1", port: seeder.s.client.port }]);
      await within(leecher.s.complete, "the download after the seeder came back");
      assert.ok(equals(await Deno.readFile(join(root, "out", meta.name)), DATA));
      // The restarted tracker heard `completed` from the leecher: two seeders now.
      let complete = 0;
      await within(
        (async () => {
          while ((complete = await scrapeComplete(tracker, meta)) < 2) {
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
        "the restarted tracker learning of the finished leecher",
      );
      assert.equal(complete, 2);
    } finally {
      for (const close of closers.reverse()) await close();
    }
  }));

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const IS_ROOT = Deno.uid() === 0;
const CAN_MOUNT = IS_ROOT &&
  (await new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).output()
    .then((o) => o.success, () => false));
// Without root, a read-only mount (the fault) cannot be made here; CI must be able to.
const NO_MOUNT_REASON = CAN_MOUNT ? undefined : "needs root and unshare -m to mount a tmpfs";
if (NO_MOUNT_REASON && !Deno.env.get("CI")) {
  console.log(`faults_test: skipping: ${NO_MOUNT_REASON}`);
}

/**
 * Runs `btx get` in a private mount namespace whose output folder is a fresh tmpfs mounted
 * with `mountOptions`, then copies what it left there to `keep`. The mount dies with the
 * namespace, so nothing needs unmounting, whatever happens; a hung `btx get` is killed after
 * 60 s (exit 137) rather than hanging the suite.
 */
async function getOnTmpfs(mountOptions: string, torrent: string, peer: string, keep: string) {
  const out = await Deno.makeTempDir({ prefix: "btx-mnt-" });
  try {
    const script = `mount -t tmpfs -o "$1" tmpfs "$2" || exit 97
timeout -s KILL 60 "$3" run -A "$4" get "$5" -o "$2" --port 0 --ip 127.0.0.1 --peer "$6"
code=$?
mount -o remount,rw "$2" 2>/dev/null
cp -a "$2"/. "$7"/
exit $code`;
    const res = await new Deno.Command("unshare", {
      args: [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        mountOptions,
        out,
        Deno.execPath(),
        MAIN,
        torrent,
        peer,
        keep,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: res.code,
      stdout: new TextDecoder().decode(res.stdout),
      stderr: new TextDecoder().decode(res.stderr).trimEnd(),
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function verifiedPieces(meta: Metainfo, bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < meta.pieceCount; i++) {
    const piece = bytes.subarray(i * PIECE, Math.min(meta.length, (i + 1) * PIECE));
    if (equals(sha1(piece), meta.pieces.subarray(i * 20, i * 20 + 20))) n++;
  }
  return n;
}

/** The fault tests' setup: the torrent file, one in-process seeder, an empty `keep` folder. */
async function faultSwarm(root: string) {
  const { bytes, meta } = torrentFor();
  const torrent = join(root, "fault.torrent");
  await Deno.writeFile(torrent, bytes);
  await Deno.mkdir(join(root, "seed"));
  await Deno.writeFile(join(root, "seed", meta.name), DATA);
  const seeder = await session(meta, join(root, "seed"));
  const keep = join(root, "keep");
  await Deno.mkdir(keep);
  return { torrent, meta, seeder, keep };
}

Deno.test({
  name: "disk full: one-line error, exit 1, verified pieces kept; a rerun fetches only the rest",
  ignore: NO_MOUNT_REASON !== undefined && !Deno.env.get("CI"),
  fn: () =>
    withTempDir(async (root) => {
      const { torrent, meta, seeder, keep } = await faultSwarm(root);
      try {
        // 1 MiB of room for 4 MiB of data.
        const r = await getOnTmpfs("size=1m", torrent, `127.0.0.1:${seeder.s.client.port}`, keep);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr.split("\n").length, 1, r.stderr);
        assert.match(r.stderr, /^btx get: write .*fault\.bin: disk full$/);
        const kept = verifiedPieces(meta, await Deno.readFile(join(keep, meta.name)));
        assert.ok(kept > 0, "no verified piece was kept");
        assert.ok(kept < meta.pieceCount);
        // On a disk with room, the same folder completes, fetching little more than the rest.
        const sentBefore = seeder.s.uploaded;
        const again = await btx(
          "get",
          torrent,
          "-o",
          keep,
          "--port",
          "0",
          "--ip",
          "127.0.0.1",
          "--peer",
          `127.0.0.1:${seeder.s.client.port}`,
        );
        assert.equal(again.code, 0, again.err.join("\n"));
        assert.ok(equals(await Deno.readFile(join(keep, meta.name)), DATA));
        const sent = seeder.s.uploaded - sentBefore;
        assert.ok(sent <= meta.length - kept * PIECE + 250 * 16 * 1024, `${sent} bytes re-sent`);
      } finally {
        await seeder.close();
      }
    }),
});

Deno.test({
  name: "unwritable output folder: one-line error, non-zero exit, nothing written",
  ignore: NO_MOUNT_REASON !== undefined && !Deno.env.get("CI"),
  fn: () =>
    withTempDir(async (root) => {
      const { torrent, seeder, keep } = await faultSwarm(root);
      try {
        const r = await getOnTmpfs(
          "ro,size=1m",
          torrent,
          `127.0.0.1:${seeder.s.client.port}`,
          keep,
        );
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr.split("\n").length, 1, r.stderr);
        assert.match(
          r.stderr,
          /^btx get: write .*fault\.bin: (read-only file system|permission denied)$/,
        );
        assert.deepEqual([...Deno.readDirSync(keep)], []);
      } finally {
        await seeder.close();
      }
    }),
});
