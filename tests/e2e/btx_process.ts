// Runs the real CLI (`deno run main.ts ...`) as a child process for end-to-end tests: collects its
// output lines, waits (always with a deadline) for a line or an exit, and kills it on cleanup.
import { fileURLToPath } from "node:url";
import { scrape } from "../../src/tracker/client/announce.ts";
import { fromHex } from "../../src/util/bytes.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** Long enough for a loaded 2-core machine; a wait that hits it fails the test with context. */
export const DEFAULT_WAIT_MS = 60_000;

type Json = Record<string, unknown>;

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

/** One running `btx` command. */
export class BtxProcess {
  /** stdout lines so far. */
  readonly lines: string[] = [];
  /** stderr lines so far. */
  readonly errLines: string[] = [];
  readonly label: string;
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #readers: Promise<void>;
  readonly #waiters = new Set<Waiter>();
  #exited: Deno.CommandStatus | undefined;

  constructor(args: string[], options: { cwd: string; label?: string }) {
    this.label = options.label ?? args[0] ?? "btx";
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-prompt", "--config", CONFIG, MAIN, ...args],
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#readers = Promise.all([
      this.#readLines(this.#child.stdout, this.lines),
      this.#readLines(this.#child.stderr, this.errLines),
    ]).then(() => {});
    this.#status = this.#child.status.then(async (status) => {
      await this.#readers;
      this.#exited = status;
      for (const w of this.#waiters) w.reject(this.#error(`exited with code ${status.code}`));
      this.#waiters.clear();
      return status;
    });
  }

  /** The exit status, once all output has been read. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** stdout lines that are JSON objects (the `--json` events). */
  get events(): Json[] {
    return this.lines.flatMap((l) => {
      if (!l.startsWith("{")) return [];
      try {
        return [JSON.parse(l) as Json];
      } catch {
        return [];
      }
    });
  }

  /** The first stdout line (past or future) that `match` accepts; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#exited) {
      return Promise.reject(this.#error(`exited with code ${this.#exited.code}`));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<string>((resolve, reject) => {
      const w: Waiter = { match, resolve, reject };
      this.#waiters.add(w);
      timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(this.#error(`no matching line within ${timeoutMs} ms`));
      }, timeoutMs);
    }).finally(() => clearTimeout(timer));
  }

  /** The first `--json` event that `match` accepts. */
  async waitForEvent(match: (e: Json) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Json> {
    const line = await this.waitForLine((l) => {
      const e = parseJson(l);
      return e !== undefined && match(e);
    }, timeoutMs);
    return parseJson(line)!;
  }

  /** Waits for the exit (bounded): the exit code. */
  async exitCode(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.#error(`still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([this.#status, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch {
      // Exited between the check and the kill.
    }
  }

  /** Cleanup for `finally`: SIGKILL if still running, then reap it and its pipes. */
  async close(): Promise<void> {
    this.kill("SIGKILL");
    await this.#status;
  }

  async #readLines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, "");
        pending = pending.slice(nl + 1);
        into.push(line);
        if (into === this.lines) this.#offer(line);
      }
    }
    if (pending !== "") {
      into.push(pending);
      if (into === this.lines) this.#offer(pending);
    }
  }

  #offer(line: string) {
    for (const w of this.#waiters) {
      if (!w.match(line)) continue;
      this.#waiters.delete(w);
      w.resolve(line);
    }
  }

  #error(what: string): Error {
    const tail = (lines: string[]) => lines.slice(-8).join("\n    ");
    return new Error(
      `btx ${this.label} ${what}\n  stdout:\n    ${tail(this.lines)}\n  stderr:\n    ${
        tail(this.errLines)
      }`,
    );
  }
}

function parseJson(line: string): Json | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as Json;
  } catch {
    return undefined;
  }
}

/** Starts `btx tracker` on a free 127.0.0.1 port; resolves with its announce URL. */
export async function startCliTracker(cwd: string): Promise<{ proc: BtxProcess; url: string }> {
  const proc = new BtxProcess(
    ["tracker", "--port", "0", "--host", "127.0.0.1", "--torrents-dir", "published"],
    { cwd, label: "tracker" },
  );
  try {
    const line = await proc.waitForLine((l) => l.startsWith("announce URL: "));
    return { proc, url: line.slice("announce URL: ".length).trim() };
  } catch (e) {
    await proc.close();
    throw e;
  }
}

/** A torrent's seeder and leecher counts, by scrape (BEP 48); undefined if not tracked. */
export async function trackerCounts(
  announceUrl: string,
  infoHashHex: string,
): Promise<{ seeders: number; leechers: number; downloaded: number } | undefined> {
  const files = await scrape(announceUrl, [fromHex(infoHashHex)!]);
  const entry = files.get(infoHashHex);
  return entry &&
    { seeders: entry.complete, leechers: entry.incomplete, downloaded: entry.downloaded };
}

/** Polls the tracker until `ok` holds for the torrent's counts (bounded by `timeoutMs`). */
export async function waitForCounts(
  announceUrl: string,
  infoHashHex: string,
  ok: (c: { seeders: number; leechers: number }) => boolean,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    const counts = await trackerCounts(announceUrl, infoHashHex);
    last = counts;
    if (counts && ok(counts)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tracker counts for ${infoHashHex} never matched; last ${JSON.stringify(last)}`);
}

/** Starts `btx seed <args> --json` on a free 127.0.0.1 port; resolves once it is serving. */
export async function startCliSeeder(
  cwd: string,
  args: string[],
  label: string,
): Promise<{ proc: BtxProcess; port: number }> {
  const proc = new BtxProcess(
    ["seed", ...args, "--port", "0", "--ip", "127.0.0.1", "--json"],
    { cwd, label },
  );
  try {
    const ready = await proc.waitForEvent((e) => e.event === "ready");
    return { proc, port: ready.port as number };
  } catch (e) {
    await proc.close();
    throw e;
  }
}
