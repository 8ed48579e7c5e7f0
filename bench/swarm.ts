/**
 * Swarm benchmark on loopback: btx against native clients, side by side in one run.
 *
 *   deno task bench:swarm [--size 1G] [--piece 256K] [--seeders 3] [--seeder-kind libtorrent]
 *                         [--leechers btx,aria2,libtorrent] [--runs 1] [--parts download,seeding]
 *                         [--seeding-seeders btx,qbittorrent,libtorrent] [--warm-pages]
 *
 * A leecher `btx@/other/checkout/main.ts` runs another btx tree in the same run (A/B tests).
 *
 * Download part: `btx tracker`, N seeders (python3-libtorrent, `btx seed` or qbittorrent-nox),
 * then each leecher in turn downloads the same cached random file from the same seeders (with
 * several runs the leechers take turns, so drift hits all alike, and their order rotates by one
 * each run, so no leecher always follows the same one: the one before it leaves the machine's
 * memory and caches in a state that can help or hurt the next). Seeding part: a libtorrent
 * leecher served by one `btx seed`, then one qBittorrent-nox, then one libtorrent seeder (a
 * native client built on libtorrent, and the bare library; --seeding-seeders picks and orders
 * them). Prints Markdown tables for bench/RESULTS.md. See bench/swarm_clients.ts for how each
 * client is timed.
 *
 * --warm-pages (root): free page reporting off for the run, after giving the host twice the
 * download size of memory to back again (bench/swarm_machine.ts): leechers then write into
 * pages as cheap as on bare metal instead of paying the VM's host faults at random.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { decode, isDict, isInt } from "../src/bencode/mod.ts";
import { parseMetainfo } from "../src/torrent/mod.ts";
import { type Metainfo } from "../src/torrent/mod.ts";
import {
  btxFlags,
  type Ctx,
  type LeechResult,
  qbittorrentVersion,
  runLeecher,
  type Seeder,
  SEEDER_KINDS,
  type SeederKind,
  startSeeder,
} from "./swarm_clients.ts";
import { cpuSeconds, ipBytesIn, peakRss, Proc, run, sleep, wakeups } from "./swarm_procs.ts";
import { cpuTicks, pageReportingOrder, stealPercent, warmPages } from "./swarm_machine.ts";

const { values: opt } = parseArgs({
  options: {
    size: { type: "string", default: "1G" },
    piece: { type: "string", default: "256K" },
    seeders: { type: "string", default: "3" },
    "seeder-kind": { type: "string", default: "libtorrent" },
    leechers: { type: "string", default: "btx,aria2,libtorrent" },
    runs: { type: "string", default: "1" },
    parts: { type: "string", default: "download,seeding" },
    "seeding-seeders": { type: "string", default: "btx,qbittorrent,libtorrent" },
    work: { type: "string", default: "/tmp/btx-bench" },
    port: { type: "string", default: "27100" },
    keep: { type: "boolean", default: false },
    "warm-pages": { type: "boolean", default: false },
  },
});

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`bad size "${text}"`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase()] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

const size = parseSize(opt.size);
const piece = parseSize(opt.piece);
const nSeeders = Number(opt.seeders);
const seederKind = opt["seeder-kind"] as SeederKind;
const leechers = opt.leechers.split(",").filter((s) => s !== "");
const runs = Number(opt.runs);
const parts = opt.parts.split(",");
const seedingSeeders = opt["seeding-seeders"].split(",").filter((s) => s !== "") as SeederKind[];
const trackerPort = Number(opt.port);
const log = (...a: unknown[]) => console.error("#", ...a);

for (const kind of [seederKind, ...seedingSeeders]) {
  if (!SEEDER_KINDS.includes(kind)) throw new Error(`seeder "${kind}": ${SEEDER_KINDS.join("|")}`);
}
if (Math.log2(piece) % 1 !== 0 || piece < 16384) throw new Error("piece: a power of 2 >= 16K");

/** The cached data file (random-looking, the same every time) and its sha256. */
async function dataFile(): Promise<{ path: string; sha256: string }> {
  const dir = join(opt.work, "data");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `rand-${opt.size}.bin`);
  const sumPath = path + ".sha256";
  try {
    if ((await Deno.stat(path)).size === size) {
      return { path, sha256: (await Deno.readTextFile(sumPath)).trim() };
    }
  } catch { /* not cached yet */ }
  log(`generating ${path}`);
  await run("bash", [
    "-c",
    `openssl enc -aes-128-ctr -nosalt -pass pass:btx-bench -pbkdf2 </dev/zero 2>/dev/null` +
    ` | head -c ${size} >"${path}.part" && mv "${path}.part" "${path}"`,
  ]);
  const sha256 = (await run("sha256sum", [path])).split(" ")[0]!;
  await Deno.writeTextFile(sumPath, sha256 + "\n");
  return { path, sha256 };
}

/** A mktorrent-made torrent (a third-party maker, so btx's own creator is not in the loop). */
async function torrentFile(data: string): Promise<string> {
  const path = `${data}.p${opt.piece}.t${trackerPort}.torrent`;
  try {
    await Deno.stat(path);
    return path;
  } catch { /* make it */ }
  await run("mktorrent", [
    "-l",
    String(Math.log2(piece)),
    "-a",
    `http://127.0.0.1:${trackerPort}/announce`,
    "-o",
    path,
    data,
  ]);
  return path;
}

async function scrapeComplete(meta: Metainfo): Promise<number> {
  const q = [...meta.infoHash].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
  try {
    const res = await fetch(`http://127.0.0.1:${trackerPort}/scrape?info_hash=${q}`);
    const body = decode(new Uint8Array(await res.arrayBuffer()));
    const files = isDict(body) ? body.get("files") : undefined;
    const entry = isDict(files) ? [...files.values()][0] : undefined;
    const complete = isDict(entry) ? entry.get("complete") : undefined;
    return isInt(complete) ? Number(complete) : 0;
  } catch {
    return 0;
  }
}

interface SeedPhase {
  results: LeechResult[];
  seederCpu: number;
  seederRss: number;
}

/**
 * A fresh tracker and `n` seeders of `kind`; each leecher in `order` downloads once per run.
 * Seeder CPU is measured over the leechers' timed windows only.
 */
async function phase(ctx: Ctx, kind: SeederKind, n: number, order: string[]): Promise<SeedPhase> {
  const tracker = new Proc([
    Deno.execPath(),
    "run",
    "-A",
    ...btxFlags(ctx.mainTs),
    ctx.mainTs,
    "tracker",
    "--host",
    "127.0.0.1",
    "--port",
    String(trackerPort),
    "--torrents-dir",
    join(ctx.runDir, "tracker-torrents"),
  ], { log: join(ctx.runDir, "tracker.log") });
  const seeders: Seeder[] = [];
  const results: LeechResult[] = [];
  let seederCpu = 0;
  try {
    // Its own line, not just an open port: another run's tracker on the port would answer too.
    await tracker.waitLine(/^tracker listening/, 20_000, "btx tracker");
    for (let i = 0; i < n; i++) seeders.push(await startSeeder(ctx, kind, i));
    await Promise.all(seeders.map((s) => s.ready(600_000)));
    const end = performance.now() + 60_000;
    while (await scrapeComplete(ctx.meta) < n) {
      if (performance.now() > end) throw new Error("seeders did not all announce");
      await sleep(100);
    }
    await sleep(500);
    for (let r = 0; r < runs; r++) {
      const turn = r % order.length;
      for (const name of [...order.slice(turn), ...order.slice(0, turn)]) {
        await run("sync", []);
        const cpu = seedersSince(seeders, (pid) => cpuSeconds(pid) ?? 0);
        const woke = seedersSince(seeders, wakeups);
        const half = whenReceived(ctx.size / 2);
        const result = await runLeecher(ctx, name, r);
        const halfAt = half();
        if (halfAt !== undefined && result.doneAt > halfAt) {
          result.secondHalfMbps = ctx.size / 2 / ((result.doneAt - halfAt) / 1000) / 1e6;
        }
        // Over the leecher's whole life, so a leecher that makes seeders work harder shows it.
        result.seederCpu = cpu();
        result.seederWakeups = woke() / 1000;
        seederCpu += result.seederCpu;
        log(formatRow(result));
        results.push(result);
      }
    }
    const seederRss = Math.max(...seeders.map((s) => peakRss(s.proc.pid) ?? 0));
    return { results, seederCpu: seederCpu / (runs * order.length), seederRss };
  } finally {
    await Promise.all(seeders.map((s) => s.proc.stop()));
    await tracker.stop();
  }
}

/** `measure` summed over the seeders' processes: returns how much it grew since this call. */
function seedersSince(seeders: Seeder[], measure: (pid: number) => number): () => number {
  const before = seeders.map((s) => measure(s.proc.pid));
  return () => seeders.reduce((t, s, i) => t + measure(s.proc.pid) - before[i]!, 0);
}

/**
 * Samples the IP bytes received on this host every 20 ms (all loopback traffic: during a
 * download nearly all of it is the data); the returned function stops and tells when `bytes`
 * more had arrived (interpolated between samples), if they did. A poll, not a hook, so it costs
 * every leecher alike (50 small /proc reads a second).
 */
function whenReceived(bytes: number): () => number | undefined {
  const base = ipBytesIn();
  let last = { t: performance.now(), got: 0 };
  let at: number | undefined;
  const timer = setInterval(() => {
    const now = { t: performance.now(), got: ipBytesIn() - base };
    if (now.got >= bytes) {
      at = last.t + (now.t - last.t) * (bytes - last.got) / (now.got - last.got);
      clearInterval(timer);
    }
    last = now;
  }, 20);
  return () => (clearInterval(timer), at);
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

function formatRow(r: LeechResult): string {
  return `${r.client} run ${r.run}: ${r.mbps.toFixed(0)} MB/s in ${r.seconds.toFixed(2)} s, ` +
    `cpu ${r.cpu.toFixed(2)} s, rss ${mb(r.rss)} MB, sha256 ${r.sha256ok ? "ok" : "MISMATCH"}` +
    (r.preempted === undefined ? "" : `, preempted ${(r.preempted / 1000).toFixed(1)}k times`) +
    (r.secondHalfMbps === undefined ? "" : ` (second half ${r.secondHalfMbps.toFixed(0)} MB/s)`) +
    (r.seederCpu === undefined
      ? ""
      : `; seeders ${r.seederCpu.toFixed(2)} CPU s, ${r.seederWakeups?.toFixed(1)}k wake-ups`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function downloadTable(results: LeechResult[]): string {
  const rows = [
    "| leecher | MB/s (median) | s | MB/s per run | second half MB/s (median; runs) | CPU s | CPU s per GiB | seeders' CPU s | seeders' wake-ups (k) | peak RSS MB | exit s | start-up s (not timed) | sha256 |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const best = new Map<string, number>();
  const bestHalf = new Map<string, number>();
  for (const name of leechers) {
    const rs = results.filter((r) => r.client === name);
    if (rs.length === 0) continue;
    const mbps = median(rs.map((r) => r.mbps));
    best.set(name, mbps);
    const cpu = median(rs.map((r) => r.cpu));
    const halves = rs.flatMap((r) => r.secondHalfMbps === undefined ? [] : [r.secondHalfMbps]);
    let halfCell = "—";
    if (halves.length > 0) {
      bestHalf.set(name, median(halves));
      halfCell = `${median(halves).toFixed(0)}; ${halves.map((h) => h.toFixed(0)).join(", ")}`;
    }
    rows.push(
      `| ${name} | ${mbps.toFixed(0)} | ${median(rs.map((r) => r.seconds)).toFixed(2)} | ` +
        `${rs.map((r) => r.mbps.toFixed(0)).join(", ")} | ${halfCell} | ${cpu.toFixed(2)} | ` +
        `${(cpu / (size / 1024 ** 3)).toFixed(2)} | ` +
        `${median(rs.map((r) => r.seederCpu ?? 0)).toFixed(2)} | ` +
        `${median(rs.map((r) => r.seederWakeups ?? 0)).toFixed(1)} | ` +
        `${mb(Math.max(...rs.map((r) => r.rss)))} | ` +
        `${median(rs.map((r) => r.exitSeconds)).toFixed(2)} | ` +
        `${median(rs.map((r) => r.startupSeconds)).toFixed(2)} | ` +
        `${rs.every((r) => r.sha256ok) ? "ok" : "MISMATCH"} |`,
    );
  }
  const whole = againstBest(best);
  if (whole) {
    rows.push("", `btx / best other (${whole.name}): **${whole.ratio.toFixed(2)}×** MB/s`);
  }
  const half = againstBest(bestHalf);
  if (half) {
    rows.push(
      "",
      `Second half only (from when half the data had arrived; a diagnostic, not the ` +
        `target): btx / best other (${half.name}): ${half.ratio.toFixed(2)}×`,
    );
  }
  return rows.join("\n");
}

/** btx's median over the best other leecher's, from medians by leecher name. */
function againstBest(medians: Map<string, number>): { name: string; ratio: number } | undefined {
  const btx = medians.get("btx");
  const others = [...medians].filter(([k]) => !k.startsWith("btx"));
  if (btx === undefined || others.length === 0) return undefined;
  const [name, top] = others.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { name, ratio: btx / top };
}

const SEEDER_LABEL: Record<SeederKind, string> = {
  btx: "btx",
  qbittorrent: "qBittorrent",
  libtorrent: "libtorrent",
};

/** One seeder of each of `seedingSeeders` in turn, each serving a libtorrent leecher. */
async function seedingPart(ctx: Ctx): Promise<string[]> {
  const rows = [
    "| seeder (1) | leecher | MB/s (median) | s | seeder CPU s | seeder peak RSS MB | leecher CPU s | sha256 |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const notes: string[] = [];
  const qbt = seedingSeeders.includes("qbittorrent") ? await qbittorrentVersion() : undefined;
  if (qbt !== undefined) notes.push(`qBittorrent seeder: qbittorrent-nox, ${qbt}.`);
  const rates = new Map<SeederKind, number>();
  for (const kind of seedingSeeders) {
    if (kind === "qbittorrent" && qbt === undefined) {
      log(
        "seeding: qbittorrent-nox is not installed (not on PATH), skipping the qBittorrent seeder",
      );
      notes.push("qBittorrent: skipped, qbittorrent-nox is not installed.");
      continue;
    }
    log(`seeding: one ${kind} seeder, libtorrent leecher`);
    const p = await phase(ctx, kind, 1, ["libtorrent"]);
    const rate = median(p.results.map((r) => r.mbps));
    rates.set(kind, rate);
    rows.push(
      `| ${kind} | libtorrent | ${rate.toFixed(0)} | ` +
        `${median(p.results.map((r) => r.seconds)).toFixed(2)} | ${p.seederCpu.toFixed(2)} | ` +
        `${mb(p.seederRss)} | ${median(p.results.map((r) => r.cpu)).toFixed(2)} | ` +
        `${p.results.every((r) => r.sha256ok) ? "ok" : "MISMATCH"} |`,
    );
  }
  const btx = rates.get("btx");
  const ratios = btx === undefined ? [] : [...rates].filter(([kind]) => kind !== "btx").map(
    ([kind, rate]) =>
      `btx seeder / ${SEEDER_LABEL[kind]} seeder: **${(btx / rate).toFixed(2)}×** MB/s`,
  );
  return [
    "Seeding (one seeder, a libtorrent leecher):",
    "",
    ...rows,
    ...(ratios.length > 0 ? ["", ...ratios] : []),
    ...(notes.length > 0 ? ["", ...notes] : []),
  ];
}

async function main() {
  const data = await dataFile();
  const torrent = await torrentFile(data.path);
  const meta = parseMetainfo(await Deno.readFile(torrent));
  const runDir = await Deno.makeTempDir({ dir: opt.work, prefix: "run-" });
  const ctx: Ctx = {
    runDir,
    torrent,
    meta,
    data: data.path,
    sha256: data.sha256,
    size,
    basePort: trackerPort,
    mainTs: new URL("../main.ts", import.meta.url).pathname,
    ltPeer: new URL("./lt_peer.py", import.meta.url).pathname,
  };
  const cpuModel = /model name\s*:\s*(.*)/.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1];
  const header = [
    `### ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC — swarm, ` +
    `${opt.size}, piece ${opt.piece}`,
    "",
    `Machine: ${navigator.hardwareConcurrency} cores (${cpuModel ?? "?"}), ` +
    `${(Deno.systemMemoryInfo().total / 1024 ** 3).toFixed(1)} GiB RAM, Deno ${Deno.version.deno}.`,
    `Command: \`deno task bench:swarm ${Deno.args.join(" ")}\``.replace(/ `$/, "`"),
  ];
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  header.push(`Load average at start: ${load()} (other processes share the 2 cores).`);
  const out: string[] = [...header];
  let restorePages = () => {};
  const ticks = cpuTicks();
  try {
    if (opt["warm-pages"]) restorePages = await warmPages(2 * size, opt.work);
    out.push(
      `Free page reporting: order ${pageReportingOrder()}` +
        (opt["warm-pages"]
          ? ` for the run (--warm-pages, ${Math.round((2 * size) / 2 ** 20)} MiB re-backed).`
          : "."),
    );
    if (parts.includes("download")) {
      log(`download: ${nSeeders} ${seederKind} seeder(s), leechers ${leechers.join(", ")}`);
      const p = await phase(ctx, seederKind, nSeeders, leechers);
      out.push(
        "",
        `Download from ${nSeeders} ${seederKind} seeder(s), ${runs} run(s) per leecher ` +
          `(seeders' CPU per download: ${p.seederCpu.toFixed(2)} s):`,
        "",
        downloadTable(p.results),
      );
    }
    if (parts.includes("seeding")) out.push("", ...await seedingPart(ctx));
  } finally {
    restorePages();
    if (!opt.keep) await Deno.remove(runDir, { recursive: true }).catch(() => {});
  }
  out.push(
    "",
    `Load average at end: ${load()}. CPU steal (time the host ran others): ` +
      `${stealPercent(ticks, cpuTicks()).toFixed(1)} %.`,
  );
  console.log(out.join("\n"));
}

await main();
