import assert from "node:assert/strict";
import { recordingIo } from "../helpers/cli.ts";
import { type Io, terminalColumns } from "../../src/cli/io.ts";
import {
  createProgress,
  displayWidth,
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
  io.columns = 200; // wide enough for every field
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
    first.includes("1.00 MiB/10.00 MiB  down 1.00 MiB/s up 0 B/s  4 peers (1 seed)"),
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
  io.columns = 80;
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
  tty.io.columns = 80;
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

const GiB = 1024 * MiB;
/** A busy download: every field of the bar is shown when there is room. */
const busy: ProgressState = {
  phase: "downloading",
  total: 5.6 * GiB,
  done: 1.2 * GiB,
  downRate: 12.3 * MiB,
  upRate: 1.1 * MiB,
  peers: 1,
  seeds: 1,
};
const LABELS = [
  "demo.bin",
  "ubuntu-24.04.1-desktop-amd64.iso",
  "a-very-long-torrent-name-".repeat(8),
  "日本語のトレントの名前".repeat(4),
  "emoji 🎉🎉🎉 and e\u0301 and \x1b[31mred",
];
const STATES: ProgressState[] = [
  busy,
  { ...busy, peers: 1234, seeds: 999, upRate: 999.9 * MiB, downRate: 1023.9 * MiB },
  { ...busy, done: busy.total, phase: "complete" },
  { phase: "checking", total: 10 * MiB, done: 3 * MiB },
  { total: 0, done: 0 },
];

Deno.test("tty bar: at 40, 80 and 120 columns the line is never wider than columns - 1", () => {
  for (const columns of [40, 80, 120]) {
    for (const label of LABELS) {
      for (const s of STATES) {
        const line = formatBar(label, s, columns);
        const why = `${columns} columns: ${JSON.stringify(line)}`;
        assert.ok(displayWidth(line) <= columns - 1, why);
        assert.match(line, /\d+\.\d%/, why); // the percentage always survives at these widths
        // No escape codes from the label.
        assert.ok([...line].every((c) => c.charCodeAt(0) >= 0x20), why);
      }
    }
  }
});

Deno.test("tty bar: the newcomer's 120-column case fits, and narrow terminals drop the least first", () => {
  const wide = formatBar("demo.bin", busy);
  assert.ok(wide.includes("down 12.30 MiB/s up 1.10 MiB/s  1 peer (1 seed)  ETA 6:07"), wide);
  assert.match(wide, /\[#{5}\.{19}\]/);

  const at120 = formatBar("demo.bin", busy, 120);
  assert.ok(displayWidth(at120) <= 119, at120);
  // Only the upload rate went.
  assert.ok(
    at120.endsWith(
      "[#####...................]  21.4%  1.20 GiB/5.60 GiB  down 12.30 MiB/s  1 peer (1 seed)  ETA 6:07",
    ),
    at120,
  );

  const at80 = formatBar("ubuntu-24.04.1-desktop-amd64.iso", busy, 80);
  assert.ok(displayWidth(at80) <= 79, at80);
  assert.match(at80, /^downloading ubuntu-24\.04/);
  assert.match(at80, /\[#+\.+\] {2}21\.4% {2}1\.20 GiB\/5\.60 GiB/);
  assert.doesNotMatch(at80, /ETA| up /);

  // A long name is cut (with "...") before it can push everything else off the line.
  const long = formatBar("x".repeat(300), busy, 120);
  assert.ok(displayWidth(long) <= 119, long);
  assert.match(long, /x\.\.\. \[#+\.+\] {2}21\.4%/);

  // Even a 10-column terminal gets a line that does not wrap.
  for (let columns = 1; columns <= 40; columns++) {
    for (const label of LABELS) {
      const line = formatBar(label, busy, columns);
      assert.ok(displayWidth(line) <= Math.max(0, columns - 1), `${columns}: ${line}`);
    }
  }
});

Deno.test("tty: createProgress draws within io.columns and falls back to 80 columns", () => {
  for (const columns of [40, 80, 120]) {
    const { io, writes } = recordingIo(true);
    io.columns = columns;
    const p = createProgress(io, { json: false, label: "ubuntu-24.04.1-desktop-amd64.iso" });
    p.update({ ...busy, peers: 12, seeds: 3 });
    p.done();
    assert.ok(writes[0]!.startsWith("\r") && writes[0]!.endsWith("\x1b[K"));
    const line = writes[0]!.slice(1, -"\x1b[K".length);
    assert.ok(displayWidth(line) <= columns - 1, `${columns}: ${line}`);
  }
  const plain = (extra: Partial<Io>): Io => ({ ...recordingIo(false).io, ...extra });
  assert.equal(terminalColumns(plain({})), 80); // not a terminal: 80
  assert.equal(terminalColumns(plain({ columns: 132 })), 132);
  assert.equal(terminalColumns(plain({ isTty: true, columns: 0 })), 80); // a terminal that says 0
});

Deno.test("peer and seed counts are singular for one, plural otherwise", () => {
  const counts = (peers: number, seeds: number) => {
    const s = { total: 100, done: 50, peers, seeds };
    return [formatLine("t", s), formatBar("t", s, 200)];
  };
  for (const line of counts(1, 1)) assert.match(line, /(^|[ ,])1 peer \(1 seed\)/, line);
  for (const line of counts(2, 2)) assert.match(line, /(^|[ ,])2 peers \(2 seeds\)/, line);
  for (const line of counts(0, 0)) assert.match(line, /(^|[ ,])0 peers \(0 seeds\)/, line);
  for (const line of counts(11, 1)) assert.match(line, /(^|[ ,])11 peers \(1 seed\)/, line);
  assert.equal(
    formatLine("d", { total: 8, done: 8, phase: "complete", peers: 1, seeds: 1 }),
    "d: complete 100.0% (8 B of 8 B), 1 peer (1 seed)",
  );
});
