import { createHash, randomFillSync } from "node:crypto";
import { join } from "node:path";
import { Client } from "../client/client.ts";
import { TorrentSession } from "../client/session/session.ts";
import { createTorrent } from "../torrent/mod.ts";
import { startTracker } from "../tracker/server/mod.ts";
import { parseSize } from "./create.ts";
import {
  type Command,
  formatBytes,
  intFlag,
  type Io,
  parseCommandArgs,
  untilStopped,
} from "./io.ts";
import { sessionView } from "./session_view.ts";

const usage = `Usage: btx demo [--size 64M] [--seeders 3] [--piece-length 256K] [--json]

Runs a whole swarm on 127.0.0.1 in this process: a tracker, N seeders of a generated random
file and one downloader, then checks the download's SHA-256 and prints the throughput.
Everything lives in a temporary folder that is removed afterwards.`;

export const demoCommand: Command = {
  name: "demo",
  summary: "a local swarm on 127.0.0.1: tracker, seeders and a downloader",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      size: { type: "string" },
      seeders: { type: "string" },
      "piece-length": { type: "string" },
      json: { type: "boolean" },
    });
    if (values.help) {
      io.out(usage);
      return 0;
    }
    const size = parseSize(values.size ?? "64M", "size");
    const seeders = intFlag(values.seeders, "seeders", 3, 1, 20);
    const pieceLength = parseSize(values["piece-length"] ?? "256K", "piece-length");
    const tmp = await Deno.makeTempDir({ prefix: "btx-demo-" });
    try {
      return await runDemo(io, { tmp, size, seeders, pieceLength, json: values.json === true });
    } finally {
      // Our own temp folder: failing to remove it leaves litter, not a wrong demo result.
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
};

interface DemoPlan {
  tmp: string;
  size: number;
  seeders: number;
  pieceLength: number;
  json: boolean;
}

async function runDemo(io: Io, plan: DemoPlan): Promise<number> {
  const say = (text: string, event: Record<string, unknown>) =>
    plan.json ? io.out(JSON.stringify(event)) : io.out(text);
  const seedDir = join(plan.tmp, "seed");
  const file = join(seedDir, "demo.bin");
  await Deno.mkdir(seedDir);
  const sourceHash = await writeRandomFile(file, plan.size);
  say(`generated ${formatBytes(plan.size)} of random data`, {
    event: "generated",
    bytes: plan.size,
  });

  const tracker = await startTracker({ host: "127.0.0.1", port: 0, interval: 60 });
  const clients: Client[] = [];
  const sessions: TorrentSession[] = [];
  try {
    say(`tracker    ${tracker.url}`, { event: "tracker", url: tracker.url });
    const { metainfo: meta } = await createTorrent(file, {
      trackers: [tracker.url],
      pieceLength: plan.pieceLength,
    });
    say(`torrent    ${meta.name}  ${meta.infoHashHex}  ${meta.pieceCount} pieces`, {
      event: "torrent",
      infoHash: meta.infoHashHex,
      pieces: meta.pieceCount,
    });
    for (let i = 0; i < plan.seeders; i++) {
      const client = Client.start({ port: 0, hostname: "127.0.0.1" });
      clients.push(client);
      sessions.push(
        await TorrentSession.start(client, meta, {
          dir: seedDir,
          seed: true,
          download: false,
          existingData: true,
        }),
      );
      say(`seeder ${i + 1}   127.0.0.1:${client.port}`, { event: "seeder", port: client.port });
    }
    const client = Client.start({ port: 0, hostname: "127.0.0.1" });
    clients.push(client);
    const view = sessionView(io, { label: "download", json: plan.json, verbose: false });
    const started = performance.now();
    const downloader = await TorrentSession.start(client, meta, {
      dir: join(plan.tmp, "download"),
      onEvent: view.onEvent,
    });
    sessions.push(downloader);
    const outcome = await Promise.race([
      downloader.complete.then(() => undefined),
      downloader.failed,
      untilStopped(io).then(() => new Error("interrupted")),
    ]);
    view.end();
    if (outcome instanceof Error) throw outcome;
    const seconds = (performance.now() - started) / 1000;
    await downloader.stop();
    const gotHash = createHash("sha256").update(
      await Deno.readFile(join(plan.tmp, "download", meta.name)),
    )
      .digest("hex");
    const served = sessions.slice(0, plan.seeders).map((s) => formatBytes(s.uploaded));
    const ok = gotHash === sourceHash;
    say(
      `sha256     ${ok ? "match" : "MISMATCH"} (${gotHash.slice(0, 16)}…)\n` +
        `throughput ${formatBytes(plan.size / seconds)}/s (${formatBytes(plan.size)} in ${
          seconds.toFixed(2)
        } s)\n` +
        `served     ${served.join(", ")} by the ${plan.seeders} seeders`,
      { event: "done", sha256Match: ok, seconds, bytesPerSecond: plan.size / seconds, served },
    );
    return ok ? 0 : 1;
  } finally {
    await Promise.all(sessions.map((s) => s.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await tracker.close();
  }
}

/** Random bytes in 1 MiB chunks; returns their SHA-256 (hex) computed on the way. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const chunk = new Uint8Array(1 << 20);
  using f = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let done = 0; done < size;) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - done));
    randomFillSync(part);
    hash.update(part);
    for (let off = 0; off < part.length;) off += await f.write(part.subarray(off));
    done += part.length;
  }
  return hash.digest("hex");
}
