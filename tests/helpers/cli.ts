import type { Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";

/** A CLI Io that records what is printed; `stop()` acts like Ctrl-C. */
export function recordingIo(isTty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const writes: string[] = [];
  const controller = new AbortController();
  const io: Io = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    write: (text) => writes.push(text),
    isTty,
    stopSignal: controller.signal,
  };
  return { io, out, err, writes, stop: () => controller.abort() };
}

/** Runs `btx <argv>` in this process with a recording Io. */
export async function btx(...argv: string[]) {
  const r = recordingIo();
  const code = await main(argv, r.io);
  return { code, out: r.out, err: r.err };
}
