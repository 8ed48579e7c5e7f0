import { basename, dirname, join, resolve } from "node:path";
import { Client } from "../client/client.ts";
import { publishTorrent } from "../client/source/publish.ts";
import { TorrentSession } from "../client/session/session.ts";
import { createTorrent, formatMagnet, type Metainfo, parseMetainfo } from "../torrent/mod.ts";
import { InputError } from "../util/errors.ts";
import { parseSize } from "./create.ts";
import {
  type Command,
  formatBytes,
  intFlag,
  type Io,
  parseCommandArgs,
  untilStopped,
  UsageError,
} from "./io.ts";

const usage = `Usage: btx seed <file | folder | file.torrent>... [options]

Serves torrents until Ctrl-C. A file or folder gets a new .torrent (torrents/<name>.torrent,
info hash and magnet link printed); a .torrent is served from the data under --data. The data
is verified first; the torrent is published to the tracker when it offers /torrents (btx
trackers do), then announced. Several torrents share one port.

Options:
  --tracker URL        Tracker to announce to (repeatable; new torrents get it as announce)
  --data DIR           Folder holding a .torrent's file or root folder (default .)
  --port N             Listen port (default 6881, next free if taken; 0 any)
  --ip ADDR            Listen address (default all)
  --piece-length N     Piece length for new torrents (bytes, or K/M suffix; default automatic)
  --private            New torrents are private (BEP 27)
  --publish-token T    Token for a tracker started with --publish-token
  --max-peers N        Connected peers per torrent at most (default 50)
  --max-upload-rate R  Upload cap per torrent in bytes/s (K/M suffix allowed; default none)
  --json               Events as JSON lines
  --verbose            Print peer connections and every warning`;

export const seedCommand: Command = {
  name: "seed",
  summary: "make or load torrents, verify the data, announce and serve until stopped",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      tracker: { type: "string", multiple: true },
      data: { type: "string" },
      port: { type: "string" },
      ip: { type: "string" },
      "piece-length": { type: "string" },
      private: { type: "boolean" },
      "publish-token": { type: "string" },
      "max-peers": { type: "string" },
      "max-upload-rate": { type: "string" },
      json: { type: "boolean" },
      verbose: { type: "boolean" },
    });
    if (values.help) {
      io.out(usage);
      return 0;
    }
    if (positionals.length === 0) {
      throw new UsageError("expected at least one file, folder or .torrent");
    }
    const port = intFlag(values.port, "port", 6881, 0, 65535);
    const maxPeers = intFlag(values["max-peers"], "max-peers", 50, 1, 10_000);
    const maxUploadRate = values["max-upload-rate"] === undefined
      ? undefined
      : parseSize(values["max-upload-rate"], "max-upload-rate");
    if (maxUploadRate === 0) throw new UsageError("--max-upload-rate must be above 0");
    const trackers = values.tracker ?? [];
    const json = values.json === true;
    const say = (text: string, event: Record<string, unknown>) =>
      json ? io.out(JSON.stringify(event)) : io.out(text);

    // Everything is prepared (and verified) before we announce anything.
    const items: { meta: Metainfo; torrent: Uint8Array; dir: string }[] = [];
    for (const source of positionals) {
      const item = await prepare(source, {
        trackers,
        dataDir: values.data,
        pieceLength: values["piece-length"] === undefined
          ? undefined
          : parseSize(values["piece-length"], "piece-length"),
        private: values.private === true,
        signal: io.stopSignal,
      });
      if (item.written) say(`wrote ${item.written}`, { event: "created", path: item.written });
      items.push(item);
    }
    for (const tracker of trackers) {
      for (const { torrent } of items) {
        const r = await publishTorrent(tracker, torrent, {
          ...(values["publish-token"] === undefined ? {} : { token: values["publish-token"] }),
        });
        if (values.verbose || r.published) say(r.message, { event: "publish", ...r });
      }
    }

    const client = Client.start({
      port,
      ...(values.ip === undefined ? {} : { hostname: values.ip }),
    });
    const sessions: TorrentSession[] = [];
    try {
      for (const { meta, dir } of items) {
        const session = await TorrentSession.start(client, meta, {
          dir,
          seed: true,
          download: false,
          existingData: true,
          trackers: trackers.length > 0 ? [trackers] : meta.announceList,
          maxPeers,
          signal: io.stopSignal,
          ...(maxUploadRate === undefined ? {} : { maxUploadRate }),
          onEvent: (e) => {
            if (e.type === "warning" || (values.verbose && e.type === "peer")) {
              const text = e.type === "warning"
                ? `warning: ${meta.name}: ${e.message}`
                : `peer ${e.peer} ${e.connected ? "connected" : "disconnected"}`;
              json
                ? io.out(JSON.stringify({ event: e.type, name: meta.name, ...e }))
                : io.err(text);
            }
          },
        });
        sessions.push(session);
        const s = session.stats();
        if (s.piecesHave === 0) {
          throw new InputError(`no data of ${meta.name} found under ${dir}`);
        }
        const magnet = formatMagnet({
          infoHashHex: meta.infoHashHex,
          name: meta.name,
          trackers: meta.announceList.flat(),
        });
        say(
          `seeding ${meta.name}  ${formatBytes(meta.length)}  ${meta.infoHashHex}\n  ${magnet}` +
            (s.piecesHave < s.pieceCount
              ? `\n  (partial: ${s.piecesHave}/${s.pieceCount} pieces verified)`
              : ""),
          {
            event: "seeding",
            name: meta.name,
            infoHash: meta.infoHashHex,
            magnet,
            pieces: s.piecesHave,
            pieceCount: s.pieceCount,
          },
        );
      }
      say(`READY: ${sessions.length} torrent(s) on port ${client.port}; Ctrl-C to stop`, {
        event: "ready",
        port: client.port,
        torrents: sessions.length,
      });
      await waitForStop(io, sessions, json);
      await Promise.all(sessions.map((s) => s.stop()));
      for (const s of sessions) {
        const { uploaded } = s.stats();
        say(`stopped ${s.meta.name}: uploaded ${formatBytes(uploaded)}`, {
          event: "stopped",
          name: s.meta.name,
          infoHash: s.infoHashHex,
          uploaded,
        });
      }
      return 0;
    } finally {
      await Promise.all(sessions.map((s) => s.stop()));
      await client.close();
    }
  },
};

interface PrepareOptions {
  trackers: string[];
  dataDir: string | undefined;
  pieceLength: number | undefined;
  private: boolean;
  signal: AbortSignal;
}

async function prepare(source: string, o: PrepareOptions) {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch {
    throw new InputError(`${source}: no such file or folder`);
  }
  if (info.isFile && source.endsWith(".torrent")) {
    const torrent = await Deno.readFile(source);
    return { meta: parseMetainfo(torrent), torrent, dir: o.dataDir ?? ".", written: undefined };
  }
  const { torrent, metainfo } = await createTorrent(source, {
    trackers: o.trackers,
    private: o.private,
    signal: o.signal,
    ...(o.pieceLength === undefined ? {} : { pieceLength: o.pieceLength }),
  });
  // The torrent is derived from the data, so an older copy under the same name is replaced.
  const written = join("torrents", `${basename(resolve(source))}.torrent`);
  await Deno.mkdir("torrents", { recursive: true });
  await Deno.writeFile(written, torrent);
  return { meta: metainfo, torrent, dir: o.dataDir ?? dirname(resolve(source)), written };
}

/** Until Ctrl-C: a status line (redrawn on a TTY, every 30 s otherwise). */
async function waitForStop(io: Io, sessions: TorrentSession[], json: boolean): Promise<void> {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    let up = 0, rate = 0, peers = 0;
    for (const s of sessions) {
      const st = s.stats();
      up += st.uploaded;
      rate += st.upRate;
      peers += st.peers;
    }
    const line = `uploaded ${formatBytes(up)}  up ${formatBytes(rate)}/s  peers ${peers}`;
    if (json) {
      if (ticks % 10 === 0) {
        io.out(JSON.stringify({ event: "status", uploaded: up, upRate: rate, peers }));
      }
    } else if (io.isTty) io.write(`\r\x1b[K${line}`);
    else if (ticks % 30 === 0) io.err(line);
  }, 1000);
  try {
    await untilStopped(io);
  } finally {
    clearInterval(timer);
    if (io.isTty && !json) io.write("\n");
  }
}
