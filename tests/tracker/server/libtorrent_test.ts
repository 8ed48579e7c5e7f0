/**
 * Interop over real sockets: a python3-libtorrent seeder and leecher that know only btx's
 * tracker find each other through it and complete a transfer; scrape then shows downloaded=1.
 */
import assert from "node:assert/strict";
import { decode } from "../../../src/bencode/mod.ts";
import { createTorrent } from "../../../src/torrent/mod.ts";
import { startTracker } from "../../../src/tracker/server/mod.ts";
import { toBinary } from "../../../src/util/bytes.ts";

const PYTHON = "/usr/bin/python3";
const HELPER = new URL("../../helpers/lt_peer.py", import.meta.url).pathname;

function libtorrentMissing(): string | undefined {
  try {
    const r = new Deno.Command(PYTHON, { args: ["-c", "import libtorrent"], stderr: "null" })
      .outputSync();
    return r.success ? undefined : "python3-libtorrent is not installed";
  } catch {
    return `${PYTHON} not found`;
  }
}

const missing = libtorrentMissing();
if (missing && !Deno.env.get("CI")) console.log(`skipping libtorrent interop: ${missing}`);

/** A child process whose stdout lines can be awaited with a deadline. */
class LineProcess {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  #wake: () => void = () => {};

  constructor(args: string[]) {
    const child = new Deno.Command(PYTHON, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#reading = (async () => {
      let buffered = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        this.lines.push(...parts);
        this.#wake();
      }
    })();
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no line matching ${pattern} in ${timeoutMs} ms; got ${this.lines}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, Math.min(left, 500));
      });
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    try {
      await this.#child.stdin.close();
    } catch {
      // Already closed.
    }
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await this.#reading;
  }
}

async function scrapeDownloaded(url: string, infoHash: Uint8Array): Promise<number> {
  const q = [...infoHash].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
  const res = await fetch(url.replace("/announce", "/scrape") + "?info_hash=" + q);
  const files = (decode(new Uint8Array(await res.arrayBuffer())) as Map<string, unknown>)
    .get("files") as Map<string, Map<string, unknown>>;
  return (files.get(toBinary(infoHash))?.get("downloaded") as number | undefined) ?? 0;
}

Deno.test({
  name: "libtorrent seeder and leecher find each other via btx tracker; scrape downloaded=1",
  ignore: missing !== undefined && !Deno.env.get("CI"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "btx-lt-" });
    const tracker = await startTracker({
      host: "127.0.0.1",
      port: 0,
      torrentsDir: `${dir}/torrents`,
      interval: 30,
    });
    const procs: LineProcess[] = [];
    try {
      const seedDir = `${dir}/seed`;
      const leechDir = `${dir}/leech`;
      await Deno.mkdir(seedDir);
      await Deno.mkdir(leechDir);
      const data = new Uint8Array(3 * 1024 * 1024 + 12345);
      for (let i = 0; i < data.length; i += 65536) {
        crypto.getRandomValues(data.subarray(i, i + 65536));
      }
      await Deno.writeFile(`${seedDir}/payload.bin`, data);
      const { torrent, metainfo } = await createTorrent(`${seedDir}/payload.bin`, {
        trackers: [tracker.url],
        pieceLength: 32768,
      });
      const torrentPath = `${dir}/payload.torrent`;
      await Deno.writeFile(torrentPath, torrent);

      const seeder = new LineProcess([HELPER, "seed", "--torrent", torrentPath, "--dir", seedDir]);
      procs.push(seeder);
      await seeder.waitFor(/^READY$/, 30_000);
      // Seeder announced: the tracker knows one seeder before the leecher asks for peers.
      const deadline = Date.now() + 15_000;
      while ((tracker.tracker.store.scrape(toBinary(metainfo.infoHash))?.complete ?? 0) < 1) {
        assert.ok(Date.now() < deadline, "seeder never announced");
        await new Promise((r) => setTimeout(r, 100));
      }

      const leecher = new LineProcess([
        HELPER,
        "leech",
        "--torrent",
        torrentPath,
        "--dir",
        leechDir,
      ]);
      procs.push(leecher);
      await leecher.waitFor(/^DONE$/, 60_000);
      assert.deepEqual(await Deno.readFile(`${leechDir}/payload.bin`), data);

      // libtorrent sends event=completed right after finishing.
      const until = Date.now() + 20_000;
      let downloaded = 0;
      while ((downloaded = await scrapeDownloaded(tracker.url, metainfo.infoHash)) < 1) {
        assert.ok(Date.now() < until, "scrape never showed downloaded = 1");
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(downloaded, 1);
      assert.equal(tracker.tracker.store.scrape(toBinary(metainfo.infoHash))?.complete, 2);
      for (const p of procs) assert.ok(!p.lines.some((l) => l.startsWith("TRACKER_ERROR")));
    } finally {
      for (const p of procs) await p.stop();
      await tracker.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
