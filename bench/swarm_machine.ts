/**
 * What the machine itself adds to a swarm run, measured and (with --warm-pages) taken out.
 *
 * This VM hands freed memory back to its host (free page reporting), and the first write to a
 * page the host took back costs a host fault: 1 GiB written into the page cache took 2.9 s of
 * system time with such pages and 0.25 s with pages freed a moment before (`dd bs=256K
 * count=4096`, bench/RESULTS.md). A download writes its whole size into the page cache, so
 * which kind of pages a leecher happens to get is most of the run-to-run spread, and it hits a
 * client that writes on its network thread (btx, aria2) harder than one with disk threads.
 */
import { join } from "node:path";

const REPORTING_ORDER = "/sys/module/page_reporting/parameters/page_reporting_order";
/** Above the largest buddy order (10): no free block qualifies, so nothing is reported. */
const NO_REPORTING = "11";

/** The page reporting order now, or "off" when the kernel has no free page reporting. */
export function pageReportingOrder(): string {
  try {
    return Deno.readTextFileSync(REPORTING_ORDER).trim();
  } catch {
    return "off";
  }
}

/**
 * Stops free page reporting and writes then deletes `bytes` of scratch file in `dir`, so the
 * host backs that much free memory again and keeps it backed for the whole run: every leecher
 * then writes into pages that cost what they cost on a machine without a balloon. Needs root.
 * Returns a function that restores the reporting order; it also runs on SIGINT and SIGTERM.
 */
export async function warmPages(bytes: number, dir: string): Promise<() => void> {
  const before = pageReportingOrder();
  if (before === "off") return () => {};
  try {
    Deno.writeTextFileSync(REPORTING_ORDER, NO_REPORTING);
  } catch (e) {
    throw new Error(`--warm-pages: cannot write ${REPORTING_ORDER} (run as root): ${e}`);
  }
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    Deno.writeTextFileSync(REPORTING_ORDER, before);
    for (const sig of SIGNALS) Deno.removeSignalListener(sig, onSignal);
  };
  const onSignal = () => {
    restore();
    Deno.exit(130);
  };
  for (const sig of SIGNALS) Deno.addSignalListener(sig, onSignal);
  const path = join(dir, "warm-pages.bin");
  try {
    const chunk = new Uint8Array(4 << 20).fill(1);
    using file = await Deno.open(path, { write: true, create: true, truncate: true });
    for (let done = 0; done < bytes; done += chunk.length) file.writeSync(chunk);
  } finally {
    await Deno.remove(path).catch(() => {});
  }
  return restore;
}

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/** CPU time the host gave to others while this VM wanted it (steal), and all CPU time, in ticks. */
export function cpuTicks(): { steal: number; total: number } {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  return { steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** Steal between two `cpuTicks` readings, as a percentage of all CPU time. */
export function stealPercent(a: { steal: number; total: number }, b: typeof a): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.steal - a.steal)) / total : 0;
}
