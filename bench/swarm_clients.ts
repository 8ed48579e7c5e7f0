/**
 * The clients of the swarm benchmark and how each one is timed. The clock stops when the
 * client itself says every piece is verified:
 * - btx get (`--json`): from its "listening" event (the runtime has started, the torrent file
 *   is read and the client's listener is open: where libtorrent's clock starts) to its
 *   "complete" event.
 * - aria2c: from spawning it to completedLength == totalLength over its JSON-RPC (20 ms polls).
 * - libtorrent (python3-libtorrent): from "go" (sent once its session is set up, so the
 *   library's start-up is not timed) to its DONE line (10 ms polls).
 * `startupSeconds` is what each clock leaves out: spawn to the clock's start.
 * CPU seconds and peak RSS are GNU time's for the leecher's whole life (start-up and
 * shutdown included), so they are an upper bound for every client alike.
 * Seeders (btx seed, libtorrent, qBittorrent-nox) are ready once they have hash-checked their
 * hard link of the data and seed; qBittorrent says so over its WebUI API, the others on stdout.
 */
import { dirname, join } from "node:path";
import type { Metainfo } from "../src/torrent/mod.ts";
import { envWords, listening, Proc, readTimed, run, sleep, timed } from "./swarm_procs.ts";

export const SEEDER_KINDS = ["btx", "qbittorrent", "libtorrent"] as const;
export type SeederKind = typeof SEEDER_KINDS[number];

/** A started seeder: `proc` is what CPU and RSS are read from, `ready` waits until it seeds. */
export interface Seeder {
  proc: Proc;
  ready(timeoutMs: number): Promise<void>;
}

/** What every client command needs to know about the run. */
export interface Ctx {
  runDir: string;
  torrent: string;
  meta: Metainfo;
  /** The cached data file seeders hard-link. */
  data: string;
  sha256: string;
  size: number;
  /** The tracker's port; peers use ports above it. */
  basePort: number;
  mainTs: string;
  ltPeer: string;
}

export interface LeechResult {
  client: string;
  run: number;
  seconds: number;
  mbps: number;
  /** Clock start to process exit (aria2 announces `stopped` first, btx too). */
  exitSeconds: number;
  /** Spawn to the clock's start: the client's own start-up, which `seconds` leaves out. */
  startupSeconds: number;
  cpu: number;
  rss: number;
  /** Involuntary context switches of the leecher process. */
  preempted?: number;
  sha256ok: boolean;
  /** CPU seconds all seeders used while this leecher ran (set by the download phase). */
  seederCpu?: number;
  /** Thousands of times the seeders' threads slept and woke while this leecher ran. */
  seederWakeups?: number;
  /** When the client said it was done (performance.now()). */
  doneAt: number;
  /**
   * MB/s from the moment half the data had arrived to the end (set by the swarm's phase,
   * downloads and seeding alike): the rate once the seeders' first-second warm-up is over.
   */
  secondHalfMbps?: number;
}

/** Extra `deno run` flags for btx processes, e.g. BTX_DENO_FLAGS="--cpu-prof --cpu-prof-dir=D". */
const EXTRA_FLAGS = envWords("BTX_DENO_FLAGS");

/**
 * The runtime flags btx runs with for users (`--v8-flags=...` of the `btx` task in the
 * deno.json beside `mainTs`), then BTX_DENO_FLAGS: btx is measured as it is shipped.
 */
export function btxFlags(mainTs: string): string[] {
  let task = "";
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dirname(mainTs), "deno.json")));
    task = String(config?.tasks?.btx ?? "");
  } catch { /* no deno.json: no flags */ }
  return [...(task.match(/--v8-flags=\S+/g) ?? []), ...EXTRA_FLAGS];
}
/** A command to run `btx get` under, e.g. BTX_WRAP="strace -c -f -o /tmp/strace.txt". */
const BTX_WRAP = envWords("BTX_WRAP");
/** The same for the libtorrent leecher (LT_WRAP="strace -c -f -o /tmp/lt.txt"). */
const LT_WRAP = envWords("LT_WRAP");
const PY = "/usr/bin/python3"; // Debian's: the only python here with libtorrent
const LEECH_TIMEOUT_MS = 900_000;

/** Starts seeder `i` on its own copy (hard link) of the data. */
export async function startSeeder(ctx: Ctx, kind: SeederKind, i: number): Promise<Seeder> {
  const dir = await Deno.makeTempDir({ dir: ctx.runDir, prefix: `seed${i}-${kind}-` });
  await Deno.link(ctx.data, join(dir, ctx.meta.name));
  const ip = `127.0.0.${11 + i}`;
  const port = ctx.basePort + 11 + i;
  const log = `${dir}.log`;
  if (kind === "qbittorrent") return startQbittorrent(ctx, i, dir, ip, port, log);
  const proc = kind === "libtorrent"
    ? new Proc([
      PY,
      ctx.ltPeer,
      "seed",
      "--torrent",
      ctx.torrent,
      "--dir",
      dir,
      "--ip",
      ip,
      "--port",
      String(port),
    ], { log })
    // No --ip: trackers record the announce's source address (127.0.0.1), so listen on all.
    : new Proc([
      Deno.execPath(),
      "run",
      "-A",
      ...btxFlags(ctx.mainTs),
      ctx.mainTs,
      "seed",
      ctx.torrent,
      "--data",
      dir,
      "--port",
      String(port),
    ], { log });
  const what = `${kind} seeder ${i}`;
  return { proc, ready: async (ms) => void await proc.waitLine(/^READY/, ms, what) };
}

/** "qBittorrent v4.5.2", or undefined when qbittorrent-nox is not installed. */
export async function qbittorrentVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("qbittorrent-nox", { args: ["--version"] }).output();
    return new TextDecoder().decode(out.stdout).trim() || "qbittorrent-nox";
  } catch {
    return undefined;
  }
}

/**
 * qBittorrent-nox in a private profile (DHT, LSD, PeX, UPnP and encryption off, TCP only, its
 * own 127.0.0.x): the WebUI on 127.0.0.1 without login, then the session's settings over the
 * WebUI API (their config-file keys moved between qBittorrent versions; the API's names are the
 * documented ones).
 */
async function startQbittorrent(
  ctx: Ctx,
  i: number,
  dir: string,
  ip: string,
  port: number,
  log: string,
): Promise<Seeder> {
  const webPort = ctx.basePort + 400 + i; // clear of the leechers' ports and aria2's RPC
  const profile = `${dir}-profile`;
  const confDir = join(profile, "qBittorrent", "config");
  await Deno.mkdir(confDir, { recursive: true });
  await Deno.writeTextFile(
    join(confDir, "qBittorrent.conf"),
    [
      "[LegalNotice]", // or qbittorrent-nox asks on stdin and waits
      "Accepted=true",
      "",
      // The WebUI API can turn PeX off only for the next start.
      "[BitTorrent]",
      "Session\\PeXEnabled=false",
      "",
      "[Preferences]",
      `WebUI\\Port=${webPort}`,
      "WebUI\\Address=127.0.0.1",
      "WebUI\\LocalHostAuth=false",
      "WebUI\\CSRFProtection=false",
      "WebUI\\HostHeaderValidation=false",
      "WebUI\\UseUPnP=false",
      "General\\StatusbarExternalIPDisplayed=false",
      "",
    ].join("\n"),
  );
  const proc = new Proc(
    ["qbittorrent-nox", `--profile=${profile}`, `--webui-port=${webPort}`],
    { log },
  );
  const what = `qbittorrent seeder ${i}`;
  const api = async (path: string, body?: URLSearchParams | FormData) => {
    const res = await fetch(
      `http://127.0.0.1:${webPort}/api/v2/${path}`,
      body === undefined ? {} : { method: "POST", body },
    );
    const text = await res.text();
    if (!res.ok) throw new Error(`${what}: ${path}: HTTP ${res.status} ${text}`);
    return text;
  };
  const hash = [...ctx.meta.infoHash].map((b) => b.toString(16).padStart(2, "0")).join("");
  // All the WebUI work happens in ready(), so the caller already holds `proc` to stop if it fails.
  const ready = async (timeoutMs: number) => {
    const end = performance.now() + timeoutMs;
    const until = async (check: () => Promise<boolean>, step: string) => {
      while (!(await check())) {
        if (proc.exitCode !== undefined) {
          throw new Error(`${what}: qbittorrent-nox exited ${proc.exitCode} (see ${log})`);
        }
        if (performance.now() > end) throw new Error(`${what}: timed out ${step}`);
        await sleep(100);
      }
    };
    await until(() => listening("127.0.0.1", webPort), "waiting for the WebUI");
    const prefs = {
      dht: false,
      lsd: false,
      pex: false,
      upnp: false,
      encryption: 2, // 0 prefer, 1 require, 2 disable: plaintext like the other clients
      anonymous_mode: false,
      listen_port: port,
      random_port: false,
      current_network_interface: "",
      // Its own 127.0.0.x: libtorrent binds the tracker connection to it too, so the tracker
      // hands out an address it listens on.
      current_interface_address: ip,
      enable_multi_connections_from_same_ip: true,
      bittorrent_protocol: 1, // 0 TCP+uTP, 1 TCP, 2 uTP
      queueing_enabled: false,
      save_path: dir,
      temp_path_enabled: false,
      max_connec: 200,
      max_connec_per_torrent: 100,
      dl_limit: 0,
      up_limit: 0,
      limit_lan_peers: false,
      max_ratio_enabled: false,
      max_seeding_time_enabled: false,
      add_trackers_enabled: false,
      announce_to_all_trackers: true,
      enable_embedded_tracker: false,
      ip_filter_enabled: false,
      preallocate_all: false,
      incomplete_files_ext: false,
      torrent_content_layout: "NoSubfolder", // (4.3.2 replaced create_subfolder_enabled)
      // The WebAPI's view of the torrents is refreshed on this timer (default 1500 ms).
      refresh_interval: 50,
    };
    await api("app/setPreferences", new URLSearchParams({ json: JSON.stringify(prefs) }));
    // A setting qBittorrent ignores (renamed in some version) would skew the run silently.
    const got = JSON.parse(await api("app/preferences")) as Record<string, unknown>;
    for (const [k, v] of Object.entries(prefs)) {
      if (got[k] !== v) console.error(`# ${what}: preference ${k}=${got[k]} (wanted ${v})`);
    }
    // The session re-binds its listen socket to the new address and port asynchronously.
    await until(() => listening(ip, port), `waiting for ${ip}:${port}`);
    const form = new FormData();
    form.append("savepath", dir);
    form.append("paused", "false");
    // Let it hash-check the hard link like the other seeders do theirs.
    form.append("skip_checking", "false");
    form.append("contentLayout", "NoSubfolder");
    const torrent = await Deno.readFile(ctx.torrent);
    form.append("torrents", new Blob([torrent], { type: "application/x-bittorrent" }), "t.torrent");
    const added = await api("torrents/add", form);
    if (!added.includes("Ok")) throw new Error(`${what}: torrents/add answered "${added}"`);
    await until(async () => {
      const [t] = JSON.parse(await api(`torrents/info?hashes=${hash}`)) as QbtTorrent[];
      if (t?.state === "error" || t?.state === "missingFiles") {
        throw new Error(`${what}: torrent state ${t.state} (see ${profile})`);
      }
      return t !== undefined && t.progress >= 1 && SEEDING.includes(t.state);
    }, "waiting for it to seed");
  };
  return { proc, ready };
}

interface QbtTorrent {
  state: string;
  progress: number;
}

/** qBittorrent states of a complete torrent that serves peers (queueing is off). */
const SEEDING = ["uploading", "stalledUP", "forcedUP"];

/** Downloads once with `client` into a fresh folder, checks the sha256 and removes it. */
export async function runLeecher(ctx: Ctx, client: string, runIndex: number): Promise<LeechResult> {
  const tag = `leech-${client.replace(/[^\w.-]/g, "_")}-${runIndex}`;
  const out = join(ctx.runDir, tag);
  await Deno.mkdir(out);
  const timeFile = join(ctx.runDir, `${tag}.time`);
  const log = join(ctx.runDir, `${tag}.log`);
  // A new port per download: the previous leecher's may still be in TIME_WAIT or announced.
  const port = ctx.basePort + 2 + 50 + runIndex * 10 + leecherSlot(client);
  let t: Timing;
  if (client === "btx") t = await leechBtx(ctx, ctx.mainTs, out, port, timeFile, log);
  else if (client.startsWith("btx@")) {
    t = await leechBtx(ctx, client.slice(4), out, port, timeFile, log);
  } else if (client === "aria2") t = await leechAria2(ctx, out, port, timeFile, log);
  else if (client === "libtorrent") t = await leechLibtorrent(ctx, out, port, timeFile, log);
  else throw new Error(`unknown leecher "${client}" (btx, btx@<main.ts>, aria2, libtorrent)`);
  const { cpu, rss, preempted } = readTimed(timeFile);
  const file = join(out, ctx.meta.name);
  const sha256 = (await run("sha256sum", [file])).split(" ")[0];
  await Deno.remove(out, { recursive: true });
  return {
    client,
    run: runIndex,
    seconds: t.seconds,
    doneAt: t.doneAt,
    mbps: ctx.size / t.seconds / 1e6,
    exitSeconds: t.exitSeconds,
    startupSeconds: t.startupSeconds,
    cpu,
    rss,
    preempted,
    sha256ok: sha256 === ctx.sha256,
  };
}

/** Each leecher of a run gets its own port: built-ins 0-2, `btx@` variants from 3 on. */
const altSlots = new Map<string, number>();
function leecherSlot(client: string): number {
  const builtIn = ["btx", "aria2", "libtorrent"].indexOf(client);
  if (builtIn >= 0) return builtIn;
  if (!altSlots.has(client)) altSlots.set(client, 3 + altSlots.size);
  return altSlots.get(client)!;
}

interface Timing {
  doneAt: number;
  seconds: number;
  exitSeconds: number;
  startupSeconds: number;
}

/** `spawned`: when the process was started; `t0`: when the clock started; `end`: done. */
async function finish(
  p: Proc,
  spawned: number,
  t0: number,
  end: number,
  what: string,
): Promise<Timing> {
  const code = await p.exited;
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
  return {
    doneAt: end,
    seconds: (end - t0) / 1000,
    exitSeconds: (performance.now() - t0) / 1000,
    startupSeconds: (t0 - spawned) / 1000,
  };
}

/** `btx get` from `mainTs`: this checkout's, or another's (a `btx@<main.ts>` leecher, for A/B runs). */
async function leechBtx(
  ctx: Ctx,
  mainTs: string,
  out: string,
  port: number,
  timeFile: string,
  log: string,
) {
  const spawned = performance.now();
  const p = new Proc([
    ...timed(timeFile),
    ...BTX_WRAP,
    Deno.execPath(),
    "run",
    "-A",
    ...btxFlags(mainTs),
    mainTs,
    "get",
    ctx.torrent,
    "-o",
    out,
    "--port",
    String(port),
    "--json",
  ], { log });
  try {
    const ready = await p.waitLine(/^\{"event":"listening"/, 60_000, "btx get");
    const done = await p.waitLine(/^\{"event":"complete"/, LEECH_TIMEOUT_MS, "btx get");
    return await finish(p, spawned, ready.at, done.at, "btx get");
  } finally {
    await p.stop();
  }
}

async function leechLibtorrent(ctx: Ctx, out: string, port: number, timeFile: string, log: string) {
  const spawned = performance.now();
  const p = new Proc([
    ...timed(timeFile),
    ...LT_WRAP,
    PY,
    ctx.ltPeer,
    "leech",
    "--torrent",
    ctx.torrent,
    "--dir",
    out,
    "--ip",
    "127.0.0.2",
    "--port",
    String(port),
  ], { log, stdin: true });
  try {
    await p.waitLine(/^SESSION/, 60_000, "libtorrent leecher");
    const t0 = performance.now();
    await p.writeLine("go");
    const done = await p.waitLine(/^DONE/, LEECH_TIMEOUT_MS, "libtorrent leecher");
    return await finish(p, spawned, t0, done.at, "libtorrent leecher");
  } finally {
    await p.stop();
  }
}

async function leechAria2(ctx: Ctx, out: string, port: number, timeFile: string, log: string) {
  const rpcPort = port + 1000;
  const t0 = performance.now();
  const p = new Proc([
    ...timed(timeFile),
    "aria2c",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--enable-peer-exchange=false",
    "--bt-enable-lpd=false",
    "--bt-require-crypto=false",
    "--bt-min-crypto-level=plain",
    `--listen-port=${port}`,
    "--interface=127.0.0.2",
    "--disable-ipv6=true",
    "--summary-interval=0",
    "--console-log-level=warn",
    "--auto-save-interval=0",
    "--bt-save-metadata=false",
    "--seed-time=0",
    // The default (prealloc) writes the whole file with zeros first.
    "--file-allocation=falloc",
    "--enable-rpc=true",
    `--rpc-listen-port=${rpcPort}`,
    "--rpc-listen-all=false",
    `--dir=${out}`,
    ctx.torrent,
  ], { log });
  const rpc = async (method: string, params: unknown[] = []) => {
    const res = await fetch(`http://127.0.0.1:${rpcPort}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: "b", method, params }),
    });
    return (await res.json()).result;
  };
  try {
    const keys = ["completedLength", "totalLength", "status"];
    const deadline = t0 + LEECH_TIMEOUT_MS;
    let end: number | undefined;
    while (end === undefined) {
      if (p.exitCode !== undefined) throw new Error(`aria2c exited with ${p.exitCode}`);
      if (performance.now() > deadline) throw new Error("aria2c: timed out");
      try {
        const all = [
          ...(await rpc("aria2.tellActive", [keys])),
          ...(await rpc("aria2.tellStopped", [0, 10, keys])),
        ] as { completedLength: string; totalLength: string }[];
        if (all.some((d) => Number(d.totalLength) > 0 && d.completedLength === d.totalLength)) {
          end = performance.now();
        }
      } catch {
        // RPC not up yet.
      }
      if (end === undefined) await sleep(20);
    }
    await rpc("aria2.shutdown").catch(() => {});
    return await finish(p, t0, t0, end, "aria2c");
  } finally {
    await p.stop();
  }
}
