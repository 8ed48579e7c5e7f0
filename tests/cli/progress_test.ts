import assert from "node:assert/strict";
import { recordingIo } from "../helpers/cli.ts";
import {
  createProgress,
  formatBar,
  formatDuration,
  formatLine,
  type ProgressState,
} from "../../src/cli/progress.ts";

const MiB = 1024 * 1024;
const state = (done: number, extra: Partial<ProgressState> = {}): ProgressState => ({
  total: 10 * MiB,
  done,
  ...extra,
});

Deno.test("tty: a \\r-redrawn bar, throttled to ~10 redraws per second", () => {
  const { io, out, writes } = recordingIo(true);
  let t = 0;
  const p = createProgress(io, { json: false, label: "ubuntu.iso", now: () => t });
  p.update(state(1 * MiB, { downRate: MiB, upRate: 0, peers: 4, seeds: 1 }));
  t = 50;
  p.update(state(2 * MiB)); // within 100 ms: skipped
  t = 120;
  p.update(state(3 * MiB, { downRate: MiB }));
  t = 130;
  p.update(state(10 * MiB)); // 100% is always drawn
  p.done();
  assert.equal(out.length, 0);
  assert.equal(writes.length, 5);
  assert.ok(writes.slice(0, 4).every((w) => w.startsWith("\r") && w.endsWith("\x1b[K")));
  const first = writes[0]!;
  assert.ok(first.includes(`ubuntu.iso [##${".".repeat(22)}]  10.0%`), first);
  assert.ok(
    first.includes("1.00 MiB/10.00 MiB  down 1.00 MiB/s up 0 B/s  4 peers (1 seeds)"),
    first,
  );
  assert.match(writes[0]!, /ETA 0:09/);
  assert.match(writes[1]!, /30\.0%.*ETA 0:07/);
  assert.match(writes[2]!, /\[#{24}\] 100\.0%/);
  assert.doesNotMatch(writes[2]!, /ETA/);
  assert.equal(writes[4], "\n");
});

Deno.test("non-tty: plain lines at most every 2 s, plus the 100% line once", () => {
  const { io, out, writes } = recordingIo(false);
  let t = 0;
  const p = createProgress(io, { json: false, label: "data", now: () => t });
  for (let i = 1; i <= 10; i++) {
    t += 500;
    p.update(state(i * MiB, { downRate: 2 * MiB, peers: 3 }));
  }
  p.done();
  assert.equal(writes.length, 0);
  // Drawn at 500 ms, 2500 ms, 4500 ms, and 100% at 5000 ms; done() adds nothing new.
  assert.deepEqual(out.map((l) => l.match(/(\d+\.\d)%/)?.[1]), ["10.0", "50.0", "90.0", "100.0"]);
  assert.equal(
    out[0],
    "data: 10.0% (1.00 MiB of 10.00 MiB), down 2.00 MiB/s up 0 B/s, 3 peers, ETA 0:05",
  );
});

Deno.test("non-tty: done() prints a final line that the throttle held back", () => {
  const { io, out } = recordingIo(false);
  let t = 0;
  const p = createProgress(io, { json: false, label: "x", now: () => t });
  p.update(state(1 * MiB));
  t = 10;
  p.update(state(5 * MiB));
  p.done({ total: 10 * MiB, done: 10 * MiB, phase: "seeding" });
  assert.equal(out.length, 2);
  assert.equal(out[1], "x: seeding 100.0% (10.00 MiB of 10.00 MiB)");
});

Deno.test("json: one object per line with percent and eta, then done", () => {
  const { io, out, writes } = recordingIo(true);
  let t = 0;
  const p = createProgress(io, { json: true, label: "t", now: () => t });
  p.update(state(5 * MiB, { downRate: MiB, peers: 2 }));
  t = 10;
  p.update(state(6 * MiB)); // throttled
  t = 2000;
  p.update(state(7 * MiB, { eta: 42 }));
  p.done();
  assert.equal(writes.length, 0);
  const lines = out.map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    {
      event: "progress",
      label: "t",
      total: 10 * MiB,
      done: 5 * MiB,
      downRate: MiB,
      peers: 2,
      percent: 50,
      eta: 5,
    },
    { event: "progress", label: "t", total: 10 * MiB, done: 7 * MiB, eta: 42, percent: 70 },
    { event: "done", label: "t", total: 10 * MiB, done: 7 * MiB, eta: 42, percent: 70 },
  ]);
});

Deno.test("fail ends the bar line and reports once; later calls are ignored", () => {
  const tty = recordingIo(true);
  const p = createProgress(tty.io, { json: false, label: "f", now: () => 0 });
  p.update(state(MiB));
  p.fail("no peers");
  p.update(state(2 * MiB));
  p.done();
  assert.equal(tty.writes.length, 2);
  assert.equal(tty.writes[1], "\n");
  assert.deepEqual(tty.err, ["f: no peers"]);

  const json = recordingIo(false);
  const q = createProgress(json.io, { json: true, label: "f" });
  q.fail("disk full");
  assert.deepEqual(json.out.map((l) => JSON.parse(l)), [
    { event: "error", label: "f", message: "disk full" },
  ]);
});

Deno.test("formatting helpers: durations, empty totals and unknown ETA", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(61.2), "1:02");
  assert.equal(formatDuration(3723), "1:02:03");
  assert.equal(formatDuration(undefined), "--");
  assert.match(formatBar("e", { total: 0, done: 0 }), /\[#{24}\] 100\.0%/);
  assert.equal(
    formatLine("u", { total: 100, done: 1, peers: 0 }),
    "u: 1.0% (1 B of 100 B), 0 peers, ETA --",
  );
});
