/**
 * Progress rendering for long operations (hashing, downloading, seeding). The operation
 * reports state through a callback; this decides how, and how often, it reaches the screen.
 * @module
 */
import { formatBytes, type Io } from "./io.ts";

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
      io.write(`\r${formatBar(options.label, state)}\x1b[K`);
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

/** The terminal bar: `name [#####.....]  45.2%  12.00 MiB/26.50 MiB  v 1.20 MiB/s ...`. */
export function formatBar(label: string, state: ProgressState): string {
  const pct = percent(state);
  const filled = Math.round((pct / 100) * BAR_WIDTH);
  const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
  return [
    `${state.phase ? `${state.phase} ` : ""}${label} [${bar}] ${pct.toFixed(1).padStart(5)}%`,
    `${formatBytes(state.done)}/${formatBytes(state.total)}`,
    ...details(state),
  ].join("  ");
}

/** One plain log line with the same facts as the bar. */
export function formatLine(label: string, state: ProgressState): string {
  const head = `${label}: ${state.phase ? `${state.phase} ` : ""}${percent(state).toFixed(1)}%`;
  return [`${head} (${formatBytes(state.done)} of ${formatBytes(state.total)})`, ...details(state)]
    .join(", ");
}

function details(state: ProgressState): string[] {
  const parts: string[] = [];
  if (state.downRate !== undefined || state.upRate !== undefined) {
    parts.push(`down ${rate(state.downRate)} up ${rate(state.upRate)}`);
  }
  if (state.peers !== undefined) {
    parts.push(`${state.peers} peers${state.seeds !== undefined ? ` (${state.seeds} seeds)` : ""}`);
  }
  if (state.done < state.total) parts.push(`ETA ${formatDuration(etaSeconds(state))}`);
  return parts;
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
