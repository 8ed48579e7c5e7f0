/**
 * Starters for each program in the interop swarms: btx's CLI (tracker, seed, get), libtorrent,
 * aria2c, opentracker, mktorrent. Every one listens on 127.0.0.1 and finds peers only through
 * the tracker or an explicit address (DHT, LSD, PEX, UPnP, NAT-PMP off).
 * @module
 */
import { toHex } from "../../src/util/bytes.ts";
import {
  freePort,
  type Lab,
  LT_PEER,
  type Proc,
  PYTHON,
  STEP_MS,
} from "../helpers/real_clients.ts";

export interface Running {
  proc: Proc;
  port: number;
}

// ---------------------------------------------------------------------------------------- btx

/** `btx tracker` on 127.0.0.1, a free port; resolves with its announce URL. */
export async function btxTracker(lab: Lab): Promise<{ proc: Proc; url: string }> {
  const proc = lab.btx("btx tracker", [
    "tracker",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--torrents-dir",
    lab.path("tracker-torrents"),
  ]);
  const m = await proc.waitFor(/^tracker listening on port (\d+)/);
  return { proc, url: `http://127.0.0.1:${m[1]}/announce` };
}

/** `btx seed <torrent> --data <dir>`; resolves once it reports ready (data verified). */
export async function btxSeed(
  lab: Lab,
  torrent: string,
  dataDir: string,
  extra: string[] = [],
): Promise<Running> {
  const proc = lab.btx("btx seed", [
    "seed",
    torrent,
    "--data",
    dataDir,
    "--port",
    "0",
    "--json",
    ...extra,
  ]);
  const m = await proc.waitFor(/^\{"event":"ready","port":(\d+)/);
  return { proc, port: Number(m[1]) };
}

/** Runs `btx get <torrent> -o <outDir>` to the end; throws unless it exits 0. */
export async function btxGet(
  lab: Lab,
  torrent: string,
  outDir: string,
  extra: string[] = [],
): Promise<Proc> {
  const proc = btxGetStart(lab, torrent, outDir, extra);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`btx get exited ${code}\n${proc.log()}`);
  return proc;
}

/** Starts `btx get` without waiting (for swarms where several downloads run at once). */
export function btxGetStart(lab: Lab, torrent: string, outDir: string, extra: string[] = []) {
  return lab.btx("btx get", ["get", torrent, "-o", outDir, "--port", "0", "--json", ...extra]);
}

/** `btx create` with a fixed piece length and no date. */
export async function btxCreate(
  lab: Lab,
  source: string,
  out: string,
  pieceLength: number,
  tracker?: string,
): Promise<void> {
  const proc = lab.btx("btx create", [
    "create",
    source,
    "-o",
    out,
    "--piece-length",
    String(pieceLength),
    "--no-date",
    ...(tracker === undefined ? [] : ["--tracker", tracker]),
  ]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`btx create exited ${code}\n${proc.log()}`);
}

// --------------------------------------------------------------------------------- libtorrent

/** A libtorrent seeder; resolves once it has checked the data and seeds. `extra`: lt_peer.py flags. */
export async function ltSeed(
  lab: Lab,
  torrent: string,
  dataDir: string,
  peers: string[] = [],
  extra: string[] = [],
): Promise<Running> {
  const proc = lab.spawn("libtorrent seed", PYTHON, [
    LT_PEER,
    "seed",
    "--torrent",
    torrent,
    "--dir",
    dataDir,
    ...peers.flatMap((p) => ["--peer", p]),
    ...extra,
  ]);
  const m = await proc.waitFor(/^LISTEN (\d+)$/);
  await proc.waitFor(/^READY$/);
  return { proc, port: Number(m[1]) };
}

/** A libtorrent downloader; wait for completion with `proc.waitFor(/^DONE$/)`. */
export async function ltLeech(
  lab: Lab,
  torrent: string,
  outDir: string,
  peers: string[] = [],
): Promise<Running> {
  await Deno.mkdir(outDir, { recursive: true });
  const proc = lab.spawn("libtorrent leech", PYTHON, [
    LT_PEER,
    "leech",
    "--torrent",
    torrent,
    "--dir",
    outDir,
    ...peers.flatMap((p) => ["--peer", p]),
  ]);
  const m = await proc.waitFor(/^LISTEN (\d+)$/);
  return { proc, port: Number(m[1]) };
}

/** What libtorrent reads from a .torrent (pad files left out). */
export interface LtInfo {
  infoHash: string;
  name: string;
  pieceLength: number;
  pieceCount: number;
  length: number;
  files: [string, number][];
}

export async function ltInfo(lab: Lab, torrent: string): Promise<LtInfo> {
  const proc = lab.spawn("libtorrent info", PYTHON, [LT_PEER, "info", "--torrent", torrent]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`lt_peer.py info exited ${code}\n${proc.log()}`);
  return JSON.parse(proc.lines.join("\n"));
}

/**
 * A v1 torrent made by libtorrent's create_torrent, or with `hybrid` libtorrent 2's default
 * v1+v2 torrent (BEP 52), whose v1 file list carries BEP 47 pad files.
 */
export async function ltCreate(
  lab: Lab,
  source: string,
  out: string,
  pieceLength: number,
  tracker?: string,
  hybrid = false,
): Promise<void> {
  const proc = lab.spawn("libtorrent create", PYTHON, [
    LT_PEER,
    "create",
    "--path",
    source,
    "--out",
    out,
    "--piece-length",
    String(pieceLength),
    ...(tracker === undefined ? [] : ["--tracker", tracker]),
    ...(hybrid ? ["--hybrid"] : []),
  ]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`lt_peer.py create exited ${code}\n${proc.log()}`);
}

// -------------------------------------------------------------------------------------- aria2

/** Flags that make aria2 a loopback, tracker-only, plaintext-capable peer. */
function aria2Flags(port: number): string[] {
  return [
    "--no-conf=true",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--enable-peer-exchange=false",
    "--bt-enable-lpd=false",
    "--bt-require-crypto=false",
    "--bt-min-crypto-level=plain",
    "--disable-ipv6=true",
    "--interface=127.0.0.1",
    `--listen-port=${port}`,
    "--file-allocation=none",
    "--console-log-level=warn",
    "--summary-interval=0",
    "--show-console-readout=false",
    "--auto-save-interval=0",
  ];
}

async function aria2Rpc(port: number, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", id: "t", method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`aria2 ${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/**
 * aria2 seeding existing data (checked first); resolves when its RPC says it is a seeder.
 * aria2 has no way to be told a peer's address, so leechers must find it via a tracker or dial
 * it at the returned port.
 */
export async function aria2Seed(lab: Lab, torrent: string, dataDir: string): Promise<Running> {
  const port = freePort();
  const rpc = freePort();
  const proc = lab.spawn("aria2 seed", "aria2c", [
    ...aria2Flags(port),
    "--check-integrity=true",
    "--seed-ratio=0.0",
    "--enable-rpc=true",
    `--rpc-listen-port=${rpc}`,
    "--rpc-listen-all=false",
    `--dir=${dataDir}`,
    torrent,
  ]);
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    let state = "";
    try {
      const active = await aria2Rpc(rpc, "aria2.tellActive", [["seeder", "status"]]) as {
        seeder?: string;
        status?: string;
      }[];
      state = JSON.stringify(active);
      if (active.length === 1 && active[0]!.seeder === "true") break;
    } catch (e) {
      state = String(e); // RPC not up yet.
    }
    if (Date.now() > deadline) throw new Error(`aria2 never seeded: ${state}\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, port };
}

/** aria2 downloading into `outDir`; it exits 0 when done (no seeding afterwards). */
export async function aria2Leech(lab: Lab, torrent: string, outDir: string): Promise<Proc> {
  await Deno.mkdir(outDir, { recursive: true });
  return lab.spawn("aria2 leech", "aria2c", [
    ...aria2Flags(freePort()),
    "--seed-time=0",
    `--dir=${outDir}`,
    torrent,
  ]);
}

/** The info hash aria2 shows for a .torrent (`aria2c -S`). */
export async function aria2InfoHash(lab: Lab, torrent: string): Promise<string> {
  const proc = lab.spawn("aria2 -S", "aria2c", ["--no-conf=true", "-S", torrent]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`aria2c -S exited ${code}\n${proc.log()}`);
  const line = proc.lines.find((l) => /^Info Hash:/.test(l));
  if (!line) throw new Error(`aria2c -S printed no info hash\n${proc.log()}`);
  return line.replace(/^Info Hash:\s*/, "").trim();
}

// -------------------------------------------------------------------------------- opentracker

/**
 * opentracker (Debian's whitelist-only build) on a free port, tracking `infoHashes`. Resolves
 * once it answers announces for the first hash (it loads the whitelist after it starts listening).
 */
export async function opentracker(
  lab: Lab,
  infoHashes: Uint8Array[],
): Promise<{ proc: Proc; url: string }> {
  await Deno.writeTextFile(lab.path("whitelist"), infoHashes.map(toHex).join("\n") + "\n");
  const port = freePort();
  const proc = lab.spawn("opentracker", "/usr/bin/opentracker", [
    "-i",
    "127.0.0.1",
    "-p",
    String(port),
    "-P",
    String(port),
    "-w",
    "whitelist",
    "-d",
    lab.dir,
  ]);
  const url = `http://127.0.0.1:${port}/announce`;
  // A "stopped" announce adds no peer; it fails only while the hash is not yet whitelisted.
  const probe = `${url}?info_hash=${pctBytes(infoHashes[0]!)}&peer_id=-PROBE0-000000000000` +
    `&port=1&uploaded=0&downloaded=0&left=0&event=stopped&compact=1`;
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    let answer = "";
    try {
      const res = await fetch(probe);
      answer = await res.text();
      if (res.ok && !answer.includes("failure reason")) break;
    } catch (e) {
      answer = String(e);
    }
    if (Date.now() > deadline) throw new Error(`opentracker not ready: ${answer}\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, url };
}

function pctBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
}

// --------------------------------------------------------------------------------- mktorrent

/**
 * mktorrent with piece length 2^log2; `tracker` may be omitted (no announce key). Several
 * trackers become one tier each (mktorrent writes an announce-list).
 */
export async function mktorrent(
  lab: Lab,
  source: string,
  out: string,
  pieceLength: number,
  tracker?: string | string[],
): Promise<void> {
  const log2 = Math.log2(pieceLength);
  const proc = lab.spawn("mktorrent", "mktorrent", [
    "-l",
    String(log2),
    "-o",
    out,
    ...[tracker ?? []].flat().flatMap((url) => ["-a", url]),
    source,
  ]);
  const code = await proc.exited();
  if (code !== 0) throw new Error(`mktorrent exited ${code}\n${proc.log()}`);
}

// ----------------------------------------------------------------------------------- makers

export type Maker = "btx" | "libtorrent" | "mktorrent";

/** Makes `out` from `source` with the given tool (mktorrent 1.1 needs pieces >= 32 KiB). */
export function makeTorrent(
  lab: Lab,
  maker: Maker,
  source: string,
  out: string,
  pieceLength: number,
  tracker?: string,
): Promise<void> {
  const make = { btx: btxCreate, libtorrent: ltCreate, mktorrent }[maker];
  return make(lab, source, out, pieceLength, tracker);
}
