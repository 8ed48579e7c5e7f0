/**
 * Starting and stopping real BitTorrent programs (and btx's own CLI) for the interop tests:
 * python3-libtorrent through `lt_peer.py`, aria2c, opentracker, mktorrent. Everything binds
 * 127.0.0.1. A `Lab` owns a temp dir and every process it spawned, and cleans both up.
 * @module
 */
import { Buffer } from "node:buffer";
import { join, relative } from "node:path";
import { decode } from "../../src/bencode/mod.ts";
import { toBinary } from "../../src/util/bytes.ts";

export const PYTHON = "/usr/bin/python3";
export const LT_PEER = new URL("./lt_peer.py", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
// btx runs in a temp dir, so the config (import map) is named rather than discovered.
const BTX_RUN = [
  "run",
  "--config",
  CONFIG,
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  MAIN,
];

/** One step (start, transfer, exit) may take this long; each case stays well under a minute. */
export const STEP_MS = 45_000;

export type Tool = "libtorrent" | "aria2c" | "opentracker" | "mktorrent";

const probes: Record<Tool, [string, string[]]> = {
  libtorrent: [PYTHON, ["-c", "import libtorrent"]],
  aria2c: ["aria2c", ["--version"]],
  opentracker: ["/usr/bin/opentracker", ["-h"]],
  mktorrent: ["mktorrent", ["-h"]],
};
const found = new Map<Tool, string | undefined>();

/** Why `tool` cannot run here, or undefined when it can. */
export function toolMissing(tool: Tool): string | undefined {
  if (!found.has(tool)) {
    const [cmd, args] = probes[tool];
    let why: string | undefined;
    try {
      const r = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync();
      // opentracker -h exits non-zero after printing its usage; it ran, which is what counts.
      if (!r.success && tool === "libtorrent") why = `${PYTHON} cannot import libtorrent`;
    } catch {
      why = `${cmd} is not installed`;
    }
    found.set(tool, why);
  }
  return found.get(tool);
}

/**
 * A `Deno.test` that needs real clients. Outside CI a missing tool skips it with a printed
 * reason; under CI (`CI` set) it runs and fails, so `.ci/run` cannot pass with a skip.
 */
export function interopTest(name: string, tools: Tool[], fn: () => Promise<void>): void {
  const missing = tools.map(toolMissing).filter((m): m is string => m !== undefined);
  const ci = Deno.env.get("CI") !== undefined && Deno.env.get("CI") !== "";
  if (missing.length > 0 && !ci) console.log(`skipping "${name}": ${missing.join("; ")}`);
  Deno.test({
    name,
    ignore: missing.length > 0 && !ci,
    async fn() {
      if (missing.length > 0) throw new Error(`required in CI: ${missing.join("; ")}`);
      await fn();
    },
  });
}

/** A child process whose stdout lines can be awaited; stderr is kept for failure messages. */
export class Proc {
  readonly name: string;
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  readonly #wakers = new Set<() => void>();
  #exitCode: number | undefined;

  constructor(name: string, cmd: string, args: string[], cwd?: string) {
    this.name = name;
    this.#child = new Deno.Command(cmd, {
      args,
      ...(cwd === undefined ? {} : { cwd }),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.status = this.#child.status.then((s) => {
      this.#exitCode = s.code;
      this.#wake();
      return s;
    });
    this.#reading = Promise.all([
      this.#collect(this.#child.stdout, this.lines),
      this.#collect(this.#child.stderr, this.errLines),
    ]).then(() => {});
  }

  async #collect(stream: ReadableStream<Uint8Array>, into: string[]) {
    let buffered = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      into.push(...parts);
      this.#wake();
    }
    if (buffered !== "") into.push(buffered);
  }

  #wake() {
    for (const w of this.#wakers) w();
  }

  /** The last output lines, for assertion messages. */
  log(max = 25): string {
    const tail = (l: string[]) => l.slice(-max).map((s) => `  ${s}`).join("\n");
    return `--- ${this.name} stdout\n${tail(this.lines)}\n--- ${this.name} stderr\n` +
      tail(this.errLines);
  }

  /** Waits until `until()` returns a value; fails on exit or after `timeoutMs`. */
  async #await<T>(what: string, until: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = until();
      if (v !== undefined) return v;
      if (this.#exitCode !== undefined) {
        throw new Error(`${this.name} exited (${this.#exitCode}) before ${what}\n${this.log()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${what} in ${timeoutMs} ms\n${this.log()}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let waker = () => {};
      await new Promise<void>((resolve) => {
        waker = resolve;
        this.#wakers.add(waker);
        timer = setTimeout(resolve, Math.min(left, 250));
      });
      this.#wakers.delete(waker);
      clearTimeout(timer);
    }
  }

  /** The first stdout line matching `pattern`, as its match. */
  waitFor(pattern: RegExp, timeoutMs = STEP_MS): Promise<RegExpMatchArray> {
    return this.#await(`line matching ${pattern}`, () => {
      for (const l of this.lines) {
        const m = pattern.exec(l);
        if (m) return m;
      }
      return undefined;
    }, timeoutMs);
  }

  /** Waits for the process to end by itself; returns its exit code (kills it on timeout). */
  async exited(timeoutMs = STEP_MS): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.#exitCode === undefined && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.status,
        new Promise((r) => timer = setTimeout(r, Math.min(250, deadline - Date.now()))),
      ]);
      clearTimeout(timer);
    }
    if (this.#exitCode === undefined) {
      await this.stop();
      throw new Error(`${this.name} did not finish in ${timeoutMs} ms\n${this.log()}`);
    }
    await this.#reading;
    return this.#exitCode;
  }

  /** Closes stdin, sends SIGTERM, SIGKILL after 5 s; waits for exit and output. */
  async stop(): Promise<void> {
    if (this.#exitCode === undefined) {
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = await Promise.race([
        this.status.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), 5_000)),
      ]);
      clearTimeout(timer);
      if (killed) {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
    } else {
      try {
        await this.#child.stdin.close();
      } catch {
        // Already closed.
      }
    }
    await this.status;
    await this.#reading;
  }
}

/** A free TCP port on 127.0.0.1 (for programs that cannot pick their own and report it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** A temp dir plus the processes started in it; `close()` stops them all and removes it. */
export class Lab {
  readonly dir: string;
  readonly #procs: Proc[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(): Promise<Lab> {
    const dir = await Deno.makeTempDir({ prefix: "btx-interop-" });
    // opentracker, run as root, drops to "nobody", who must read its whitelist here.
    await Deno.chmod(dir, 0o755);
    return new Lab(dir);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  spawn(name: string, cmd: string, args: string[], cwd = this.dir): Proc {
    const p = new Proc(name, cmd, args, cwd);
    this.#procs.push(p);
    return p;
  }

  /** `deno run main.ts <args>` in the lab dir. */
  btx(name: string, args: string[]): Proc {
    return this.spawn(name, Deno.execPath(), [...BTX_RUN, ...args]);
  }

  async close(): Promise<void> {
    for (const p of [...this.#procs].reverse()) await p.stop();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Runs `fn` with a fresh lab and always cleans it up. */
export async function withLab(fn: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await Lab.open();
  try {
    await fn(lab);
  } finally {
    await lab.close();
  }
}

/** Percent-encodes every byte of an info hash. */
function pct(bytes: Uint8Array): string {
  return [...bytes].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
}

/** The tracker's `complete` count for `infoHash` (0 when unknown or on a failed scrape). */
export async function scrapeComplete(announceUrl: string, infoHash: Uint8Array): Promise<number> {
  const url = announceUrl.replace(/\/announce$/, "/scrape") + "?info_hash=" + pct(infoHash);
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) return 0;
  const files = (decode(body) as Map<string, unknown>).get("files") as
    | Map<string, Map<string, unknown>>
    | undefined;
  return (files?.get(toBinary(infoHash))?.get("complete") as number | undefined) ?? 0;
}

/** Polls the tracker until it lists at least `n` seeders of `infoHash`. */
export async function waitForSeeders(
  announceUrl: string,
  infoHash: Uint8Array,
  n: number,
  timeoutMs = STEP_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while ((seen = await scrapeComplete(announceUrl, infoHash)) < n) {
    if (Date.now() > deadline) throw new Error(`tracker shows ${seen} of ${n} seeders`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every file below `root` as relative path → size, with "/" separators. btx's resume folder
 * (`.btx/` at the top) is not content and is left out.
 */
export async function listTree(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const full = join(dir, e.name);
      if (dir === root && e.name === ".btx") continue;
      if (e.isDirectory) await walk(full);
      else out.set(relative(root, full).split("\\").join("/"), (await Deno.stat(full)).size);
    }
  }
  await walk(root);
  return out;
}

/**
 * Throws unless `actual` holds exactly the files of `expected` (no more, no fewer, empty files
 * included) with identical bytes. Returns the number of files compared.
 */
export async function assertSameTree(expected: string, actual: string): Promise<number> {
  const [want, got] = [await listTree(expected), await listTree(actual)];
  const describe = (m: Map<string, number>) => JSON.stringify([...m].sort());
  if (describe(want) !== describe(got)) {
    throw new Error(`files differ:\n want ${describe(want)}\n got  ${describe(got)}`);
  }
  for (const path of want.keys()) {
    const [a, b] = [
      await Deno.readFile(join(expected, path)),
      await Deno.readFile(join(actual, path)),
    ];
    if (Buffer.compare(a, b) !== 0) throw new Error(`${path}: bytes differ`);
  }
  return want.size;
}
