import { Client } from "../client/client.ts";
import { loadTorrentSource } from "../client/source/load.ts";
import { type PeerAddress, TorrentSession } from "../client/session/session.ts";
import { parseMetainfo } from "../torrent/mod.ts";
import {
  type Command,
  formatBytes,
  intFlag,
  type Io,
  parseCommandArgs,
  untilStopped,
  UsageError,
} from "./io.ts";
import { sessionView } from "./session_view.ts";

const usage = `Usage: btx get <file.torrent | URL | infohash | magnet> -o <dir> [options]

Downloads a torrent from many peers at once, verifies every piece with SHA-1 and writes the
files under <dir>. Data already there is checked first and only missing pieces are fetched.
Ctrl-C stops cleanly (announces "stopped") and keeps verified data for the next run.

Options:
  -o, --out DIR        Folder that receives the torrent's file or root folder (default .)
  --tracker URL        Extra tracker to announce to; for an infohash or magnet, a btx tracker
                       that serves the .torrent (GET /torrents/<infohash>)
  --peer HOST:PORT     Also connect to this peer (repeatable)
  --port N             Listen port for incoming peers (default 6881, next free if taken; 0 any)
  --ip ADDR            Listen address (default all)
  --max-peers N        Connected peers at most (default 50)
  --seed               Keep seeding after the download completes, until Ctrl-C
  --json               Progress and result as JSON lines
  --verbose            Print peer connections and every warning`;

/** `btx get`: exit 0 only when every piece is verified on disk. */
export const getCommand: Command = {
  name: "get",
  summary: "download a torrent (file, URL, or infohash/magnet via a btx tracker)",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      out: { type: "string", short: "o" },
      tracker: { type: "string" },
      peer: { type: "string", multiple: true },
      port: { type: "string" },
      ip: { type: "string" },
      "max-peers": { type: "string" },
      seed: { type: "boolean" },
      json: { type: "boolean" },
      verbose: { type: "boolean" },
    });
    if (values.help) {
      io.out(usage);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("expected exactly one torrent source");
    const peers = (values.peer ?? []).map(parsePeer);
    const port = intFlag(values.port, "port", 6881, 0, 65535);
    const maxPeers = intFlag(values["max-peers"], "max-peers", 50, 1, 10_000);
    const bytes = await loadTorrentSource(positionals[0]!, {
      ...(values.tracker === undefined ? {} : { tracker: values.tracker }),
      signal: io.stopSignal,
    });
    const meta = parseMetainfo(bytes);
    const trackers = values.tracker === undefined
      ? meta.announceList
      : [[values.tracker], ...meta.announceList];
    return await download(io, {
      meta,
      dir: values.out ?? ".",
      trackers,
      peers,
      port,
      maxPeers,
      seed: values.seed === true,
      json: values.json === true,
      verbose: values.verbose === true,
      ...(values.ip === undefined ? {} : { ip: values.ip }),
    });
  },
};

function parsePeer(text: string): PeerAddress {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`--peer must be HOST:PORT, got "${text}"`);
  }
  return { hostname: m[1]!, port };
}

interface DownloadPlan {
  meta: ReturnType<typeof parseMetainfo>;
  dir: string;
  trackers: string[][];
  peers: PeerAddress[];
  port: number;
  ip?: string;
  maxPeers: number;
  seed: boolean;
  json: boolean;
  verbose: boolean;
}

async function download(io: Io, plan: DownloadPlan): Promise<number> {
  const { meta } = plan;
  const view = sessionView(io, { label: meta.name, json: plan.json, verbose: plan.verbose });
  const client = Client.start({
    port: plan.port,
    ...(plan.ip === undefined ? {} : { hostname: plan.ip }),
  });
  if (plan.json) io.out(JSON.stringify({ event: "listening", port: client.port }));
  else if (plan.verbose) io.err(`listening on port ${client.port}`);
  const started = performance.now();
  let session: TorrentSession | undefined;
  try {
    session = await TorrentSession.start(client, meta, {
      dir: plan.dir,
      seed: plan.seed,
      trackers: plan.trackers,
      peers: plan.peers,
      maxPeers: plan.maxPeers,
      signal: io.stopSignal,
      onEvent: view.onEvent,
    });
    const stopped = untilStopped(io).then(() => "stopped" as const);
    const outcome = await Promise.race([
      session.complete.then(() => "complete" as const),
      session.failed,
      stopped,
    ]);
    if (outcome instanceof Error) throw outcome;
    if (outcome === "stopped") {
      view.end();
      await session.stop();
      const s = session.stats();
      report(
        io,
        plan.json,
        "stopped",
        `stopped: ${s.piecesHave}/${s.pieceCount} pieces verified and kept`,
        s,
      );
      return 130;
    }
    view.end();
    const seconds = (performance.now() - started) / 1000;
    const s = session.stats();
    report(
      io,
      plan.json,
      "complete",
      `complete: ${meta.name} (${formatBytes(meta.length)}) verified in ${seconds.toFixed(1)} s, ` +
        `${formatBytes(s.downloaded / Math.max(seconds, 0.001))}/s`,
      { ...s, seconds },
    );
    if (plan.seed) {
      if (!plan.json) io.err("seeding; press Ctrl-C to stop");
      await stopped;
      await session.stop();
      const after = session.stats();
      report(
        io,
        plan.json,
        "stopped",
        `stopped seeding: uploaded ${formatBytes(after.uploaded)}`,
        after,
      );
    }
    return 0;
  } finally {
    view.end();
    await session?.stop();
    await client.close();
  }
}

function report(io: Io, json: boolean, event: string, text: string, data: object) {
  if (json) io.out(JSON.stringify({ event, ...data }));
  else io.out(text);
}
