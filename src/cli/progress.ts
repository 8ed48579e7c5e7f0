/**
 * Progress rendering for long operations (hashing, downloading, seeding). The operation
 * reports state through a callback; this decides how, and how often, it reaches the screen.
 * @module
 */
import { formatBytes, type Io, terminalColumns } from "./io.ts";

/** A snapshot of a long operation. Byte counts and bytes per second. */
export interface ProgressState {
  total: number;
  done: number;
  downRate?: number;
  upRate?: number;
  peers?: number;
  seeds?: number;
  /** Seconds left; computed from `downRate` when absent. */
  eta?: number;
  /** What is happening, e.g. "checking", "downloading", "seeding". */
  phase?: string;
}

export interface Progress {
  /** Called as often as the operation likes; drawing is throttled here. */
  update(state: ProgressState): void;
  /** Draws the final state (default: the last one) and ends the line. */
  done(finalState?: ProgressState): void;
  /** Ends the progress display and reports `message` on stderr (JSON: on stdout). */
  fail(message: string): void;
}

export interface ProgressOptions {
  /** One JSON object per line instead of text. */
  json: boolean;
  /** Names the operation: the file or torrent name. */
  label: string;
  /** Clock in milliseconds (default performance.now); tests inject their own. */
  now?: () => number;
}

/** Redraws of the terminal bar: ~10 per second. */
const TTY_INTERVAL_MS = 100;
/** Plain lines (logs, pipes): one every 2 s, plus the 100% line. */
const LINE_INTERVAL_MS = 2000;
/** JSON lines: one per second, plus the 100% line. */
const JSON_INTERVAL_MS = 1000;
const BAR_WIDTH = 24;

/**
 * A renderer for `io`: a one-line bar redrawn with `\r` on a terminal, plain lines otherwise,
 * or JSON lines (`{"event":"progress"|"done"|"error", ...}`) with `json`.
 */
export function createProgress(io: Io, options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const mode = options.json ? "json" : io.isTty ? "tty" : "lines";
  const interval = mode === "tty"
    ? TTY_INTERVAL_MS
    : mode === "json"
    ? JSON_INTERVAL_MS
    : LINE_INTERVAL_MS;
  let last: ProgressState | undefined;
  let lastDrawAt: number | undefined;
  let lastDrawnComplete = false;
  let lastDrawn: ProgressState | undefined;
  let barOnScreen = false;
  let finished = false;

  const emit = (state: ProgressState, event: "progress" | "done") => {
    if (mode === "json") {
      io.out(JSON.stringify({ event, label: options.label, ...jsonFields(state) }));
    } else if (mode === "tty") {
      // The width is read on every redraw, so a resized terminal gets a line that fits.
      io.write(`\r${formatBar(options.label, state, terminalColumns(io))}\x1b[K`);
      barOnScreen = true;
    } else {
      io.out(formatLine(options.label, state));
    }
  };

  return {
    update(state) {
      if (finished) return;
      last = state;
      const t = now();
      const complete = state.done >= state.total;
      // The first 100% is always shown; after that 100% is throttled like anything else.
      const firstComplete = complete && !lastDrawnComplete;
      if (!firstComplete && lastDrawAt !== undefined && t - lastDrawAt < interval) return;
      lastDrawAt = t;
      lastDrawnComplete = complete;
      lastDrawn = state;
      emit(state, "progress");
    },
    done(finalState) {
      if (finished) return;
      finished = true;
      const state = finalState ?? last;
      if (mode === "tty") {
        if (state) emit(state, "done");
        if (barOnScreen) io.write("\n");
      } else if (mode === "json") {
        io.out(JSON.stringify({ event: "done", label: options.label, ...jsonFields(state) }));
      } else if (state && !(lastDrawn && sameProgress(lastDrawn, state))) {
        io.out(formatLine(options.label, state));
      }
    },
    fail(message) {
      if (finished) return;
      finished = true;
      if (mode === "json") {
        io.out(JSON.stringify({ event: "error", label: options.label, message }));
        return;
      }
      if (barOnScreen) io.write("\n");
      io.err(`${options.label}: ${message}`);
    },
  };
}

/** Seconds left, from the state's `eta` or its download rate; undefined when unknown. */
export function etaSeconds(state: ProgressState): number | undefined {
  if (state.eta !== undefined) return state.eta;
  const left = state.total - state.done;
  if (left <= 0) return 0;
  if (!state.downRate || state.downRate <= 0) return undefined;
  return left / state.downRate;
}

/** `1:02:03`, `2:03`, or `--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function sameProgress(a: ProgressState, b: ProgressState): boolean {
  return a.done === b.done && a.total === b.total;
}

function percent(state: ProgressState): number {
  if (state.total <= 0) return 100;
  return Math.min(100, (state.done / state.total) * 100);
}

function rate(n: number | undefined): string {
  return `${formatBytes(Math.round(n ?? 0))}/s`;
}

/** Narrowest bar kept before other fields go; the bar itself goes only near the end. */
const MIN_BAR_WIDTH = 10;
/** Shown for the part of a label or line that does not fit. ASCII, so it is one column wide. */
const ELLIPSIS = "...";

/** Which parts of the bar are drawn, and how wide; `formatBar` trims this until the line fits. */
interface BarLayout {
  phase: boolean;
  /** Most columns the label may take (longer ones are cut, ending in "..."). */
  label: number;
  bar: number;
  bytes: boolean;
  down: boolean;
  up: boolean;
  peers: boolean;
  seeds: boolean;
  eta: boolean;
}

/**
 * The terminal bar: `name [#####.....]  45.2%  12.00 MiB/26.50 MiB  down 1.20 MiB/s ...`.
 *
 * With `columns` (the terminal's width) the line is at most `columns - 1` wide, so the cursor
 * never reaches the last column and the terminal never wraps it (a wrapped line is not
 * redrawn in place by `\r`, so it would repeat on every update). What goes, in order, until
 * it fits: a long label is cut to a third of the width, the upload rate, bar width down to
 * 10, the ETA, the label down to 12 columns, the seed count, the peer count, the download
 * rate, the byte counts, the bar, the label down to 8, the phase, the rest of the label; then
 * the line is cut. Room a step freed beyond what was needed goes back to the label and bar.
 */
export function formatBar(label: string, state: ProgressState, columns = Infinity): string {
  const max = Math.max(0, Math.floor(columns) - 1);
  const name = printable(label);
  const fullLabel = displayWidth(name);
  const l: BarLayout = {
    phase: true,
    label: fullLabel,
    bar: BAR_WIDTH,
    bytes: true,
    down: true,
    up: true,
    peers: true,
    seeds: true,
    eta: true,
  };
  const draw = () => renderBar(name, state, l);
  const over = () => displayWidth(draw()) - max;
  const steps: ((l: BarLayout) => Partial<BarLayout>)[] = [
    (l) => ({ label: Math.min(l.label, Math.max(16, Math.floor(columns / 3))) }),
    () => ({ up: false }),
    (l) => ({ bar: Math.max(MIN_BAR_WIDTH, l.bar - over()) }),
    () => ({ eta: false }),
    (l) => ({ label: Math.max(Math.min(l.label, 12), l.label - over()) }),
    () => ({ seeds: false }),
    () => ({ peers: false }),
    () => ({ down: false }),
    () => ({ bytes: false }),
    () => ({ bar: 0 }),
    (l) => ({ label: Math.max(Math.min(l.label, 8), l.label - over()) }),
    () => ({ phase: false }),
    (l) => ({ label: Math.max(1, l.label - over()) }),
  ];
  for (const step of steps) {
    if (over() <= 0) break;
    Object.assign(l, step(l));
  }
  // A step can free more than was needed: what is left over goes back to the label, then the bar.
  if (over() < 0) {
    l.label = Math.min(fullLabel, l.label - over());
    // A wide character that did not fit before may fit now, one column more than planned.
    while (over() > 0 && l.label > 1) l.label--;
  }
  if (over() < 0 && l.bar > 0) l.bar = Math.min(BAR_WIDTH, l.bar - over());
  return fitWidth(draw(), max);
}

function renderBar(name: string, state: ProgressState, l: BarLayout): string {
  const pct = percent(state);
  const filled = Math.round((pct / 100) * l.bar);
  const bar = l.bar > 0 ? ` [${"#".repeat(filled)}${".".repeat(l.bar - filled)}]` : "";
  const head = `${state.phase && l.phase ? `${state.phase} ` : ""}${fitWidth(name, l.label)}`;
  return [
    `${head}${bar} ${pct.toFixed(1).padStart(5)}%`,
    ...(l.bytes ? [`${formatBytes(state.done)}/${formatBytes(state.total)}`] : []),
    ...details(state, l),
  ].join("  ");
}

/** One plain log line with the same facts as the bar. */
export function formatLine(label: string, state: ProgressState): string {
  const head = `${label}: ${state.phase ? `${state.phase} ` : ""}${percent(state).toFixed(1)}%`;
  return [`${head} (${formatBytes(state.done)} of ${formatBytes(state.total)})`, ...details(state)]
    .join(", ");
}

/** `1 peer`, `2 peers`, `0 peers`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

type DetailFields = Pick<BarLayout, "down" | "up" | "peers" | "seeds" | "eta">;
const ALL_DETAILS: DetailFields = { down: true, up: true, peers: true, seeds: true, eta: true };

function details(state: ProgressState, show: DetailFields = ALL_DETAILS): string[] {
  const parts: string[] = [];
  if ((state.downRate !== undefined || state.upRate !== undefined) && show.down) {
    parts.push(`down ${rate(state.downRate)}${show.up ? ` up ${rate(state.upRate)}` : ""}`);
  }
  if (state.peers !== undefined && show.peers) {
    const seeds = state.seeds !== undefined && show.seeds
      ? ` (${plural(state.seeds, "seed")})`
      : "";
    parts.push(`${plural(state.peers, "peer")}${seeds}`);
  }
  if (state.done < state.total && show.eta) parts.push(`ETA ${formatDuration(etaSeconds(state))}`);
  return parts;
}

/**
 * Control characters (which would move the cursor or recolour the terminal) and bidi
 * overrides (which reorder what follows them) as `?`.
 */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/g, "?");
}

/**
 * Columns `text` takes on a terminal: East Asian wide characters and emoji count 2, combining
 * marks and zero-width characters 0. Where terminals disagree (emoji, symbols) this errs wide:
 * a line measured too wide is merely shorter than it could be, one measured too narrow wraps.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** `text` cut to at most `width` columns, ending in "..." when cut (and there is room). */
export function fitWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  const tail = width > ELLIPSIS.length ? ELLIPSIS : "";
  let room = width - tail.length;
  let out = "";
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0)!);
    if (w > room) break;
    out += ch;
    room -= w;
  }
  return out + tail;
}

const ZERO_WIDTH: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f],
  [0x0483, 0x0489],
  [0x0591, 0x05bd],
  [0x0610, 0x061a],
  [0x064b, 0x065f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x200b, 0x200f],
  [0x2060, 0x2064],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0e],
  [0xfe20, 0xfe2f],
  [0xfeff, 0xfeff],
  [0xe0000, 0xe0fff],
];

const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23f3],
  [0x23f8, 0x23fa],
  [0x25fd, 0x25fe],
  [0x2600, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x1b2ff],
  [0x1f000, 0x1faff],
  [0x20000, 0x3fffd],
];

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [lo, hi] of ranges) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

function charWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if (inRanges(cp, ZERO_WIDTH)) return 0;
  return inRanges(cp, WIDE) ? 2 : 1;
}

function jsonFields(state: ProgressState | undefined): Record<string, unknown> {
  if (!state) return {};
  const eta = etaSeconds(state);
  return {
    ...state,
    percent: Math.round(percent(state) * 100) / 100,
    ...(eta === undefined ? {} : { eta: Math.round(eta) }),
  };
}
