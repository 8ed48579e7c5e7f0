/**
 * Child processes for the swarm benchmark: each runs in its own process group (setsid), its
 * stdout is split into lines that can be awaited, and stdout + stderr go to a log file.
 * CPU and peak RSS come from /proc (live processes) or GNU time's output file (whole life).
 */

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks.

export interface SpawnOptions {
  cwd?: string;
  log: string;
  stdin?: boolean;
  env?: Record<string, string>;
}

/** A running child in its own process group. */
export class Proc {
  readonly pid: number;
  readonly lines: { text: string; at: number }[] = [];
  readonly exited: Promise<number>;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #listeners = new Set<() => void>();
  #code: number | undefined;
  #logDone: Promise<void>;

  constructor(argv: string[], o: SpawnOptions) {
    // setsid execs (we are not a group leader), so pid == pgid and the group can be killed.
    this.#child = new Deno.Command("setsid", {
      args: argv,
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.env === undefined ? {} : { env: o.env }),
      stdin: o.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    if (o.stdin) this.#stdin = this.#child.stdin.getWriter();
    const log = Deno.openSync(o.log, { create: true, append: true });
    this.#logDone = Promise.all([
      this.#pump(this.#child.stdout, log, true),
      this.#pump(this.#child.stderr, log, false),
    ]).then(() => log.close());
    this.exited = this.#child.status.then(async (s) => {
      this.#code = s.code;
      await this.#logDone;
      this.#notify();
      return s.code;
    });
  }

  get exitCode(): number | undefined {
    return this.#code;
  }

  async #pump(stream: ReadableStream<Uint8Array>, log: Deno.FsFile, parse: boolean) {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      log.writeSync(chunk);
      if (!parse) continue;
      const now = performance.now();
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const text of parts) this.lines.push({ text, at: now });
      this.#notify();
    }
    if (parse && rest !== "") this.lines.push({ text: rest, at: performance.now() });
  }

  #notify() {
    for (const l of [...this.#listeners]) l();
  }

  /** The first stdout line matching `re` (with its arrival time); throws on exit or timeout. */
  waitLine(re: RegExp, timeoutMs: number, what: string): Promise<{ text: string; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${what}: timed out`)), timeoutMs);
      const check = () => {
        const hit = this.lines.find((l) => re.test(l.text));
        if (hit) finish(undefined, hit);
        else if (this.#code !== undefined) finish(new Error(`${what}: exited ${this.#code}`));
      };
      const finish = (e?: Error, hit?: { text: string; at: number }) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (e) reject(e);
        else resolve(hit!);
      };
      this.#listeners.add(check);
      check();
    });
  }

  async writeLine(text: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(text + "\n"));
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader was reaped. */
  async stop(graceMs = 8000): Promise<void> {
    if (this.#code === undefined) {
      killGroup(this.pid, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([this.exited, late]);
      clearTimeout(timer);
    }
    // Whatever is left of the group (the leader gone or not) is killed.
    killGroup(this.pid, "SIGKILL");
    await this.exited;
    await this.#stdin?.close().catch(() => {});
  }
}

function killGroup(pgid: number, signal: Deno.Signal) {
  try {
    Deno.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** utime + stime of a live process in seconds, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Times a live process's threads went to sleep (voluntary context switches, all threads):
 * its wake-ups, which is what a peer's message pattern costs it beyond the bytes.
 */
export function wakeups(pid: number): number {
  let n = 0;
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const status = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/status`);
        n += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    // The process is gone.
  }
  return n;
}

/**
 * IP bytes received on this host so far (`IpExt InOctets` of /proc/net/netstat), loopback
 * included. Per-process counters (/proc/PID/io) leave out socket sends and receives.
 */
export function ipBytesIn(): number {
  // Two "IpExt:" lines: the field names, then their values.
  const [names = "", values = ""] = Deno.readTextFileSync("/proc/net/netstat").split("\n")
    .filter((l) => l.startsWith("IpExt:"));
  return Number(values.split(" ")[names.split(" ").indexOf("InOctets")] ?? 0);
}

/** Peak resident set (VmHWM) of a live process in bytes. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Prefix for an argv that makes GNU time write "<user> <sys> <maxrss kB>" to `file`. */
export function timed(file: string): string[] {
  return ["/usr/bin/time", "-f", "%U %S %M %c", "-o", file];
}

/**
 * Reads what `timed()` wrote: CPU seconds (user + sys), peak RSS in bytes, and how often the
 * process was preempted (involuntary context switches: on 2 shared cores, time it lost).
 */
export function readTimed(file: string): { cpu: number; rss: number; preempted: number } {
  const last = Deno.readTextFileSync(file).trim().split("\n").pop() ?? "";
  const [user, sys, rssKb, preempted] = last.split(" ").map(Number);
  if (user === undefined || sys === undefined || rssKb === undefined || Number.isNaN(rssKb)) {
    throw new Error(`unexpected /usr/bin/time output in ${file}: ${last}`);
  }
  return { cpu: user + sys, rss: rssKb * 1024, preempted: preempted ?? 0 };
}

/** Runs a command to completion; throws with its stderr when it fails. */
export async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** True when something accepts a TCP connection on host:port right now. */
export function listening(hostname: string, port: number): Promise<boolean> {
  return Deno.connect({ hostname, port }).then((c) => (c.close(), true), () => false);
}

/** The words of environment variable `name` (a command prefix or extra flags), or none. */
export function envWords(name: string): string[] {
  return (Deno.env.get(name) ?? "").split(" ").filter((w) => w !== "");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
