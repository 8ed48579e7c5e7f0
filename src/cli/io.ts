import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../util/errors.ts";

/** Where a command prints. Tests pass a recording Io; `main.ts` passes the real one. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Raw write to stdout without a newline (progress bars). */
  write(text: string): void;
  /** True when stdout is a terminal: progress is drawn as a bar, else as plain lines. */
  isTty: boolean;
  /**
   * The terminal's width in columns, which a progress bar must stay within. Absent: the real
   * terminal's (`Deno.consoleSize()`) when `isTty`, else 80; see `terminalColumns`.
   */
  columns?: number;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  stopSignal: AbortSignal;
}

/** A subcommand: one file under src/cli/ each. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: Io): Promise<number>;
}

/** Wrong flags or arguments: the CLI prints one line plus usage and exits 2. */
export class UsageError extends InputError {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `parseArgs` from node:util, strict, with `--help` always accepted. Unknown flags and
 * missing values become a UsageError instead of node's own error type.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    // node's text goes on about "--" for positionals; the first sentence is the error.
    throw new UsageError(message.replace(/^(Unknown option '[^']*')\..*$/, "$1"));
  }
}

/** Parses a non-negative integer flag, or throws a UsageError naming the flag. */
export function intFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  }
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max}`);
  return n;
}

export { formatBytes } from "../util/format.ts";

/** The width assumed when the terminal does not say (or there is none). */
export const DEFAULT_COLUMNS = 80;

/**
 * Columns available to a line on `io`: `io.columns` when given, else the terminal's current
 * width when stdout is one (read on each call, so a resize is picked up), else 80.
 */
export function terminalColumns(io: Io): number {
  let columns = io.columns;
  if (columns === undefined && io.isTty) {
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // Not a terminal after all (or the platform cannot say).
    }
  }
  return columns !== undefined && Number.isFinite(columns) && columns > 0
    ? Math.floor(columns)
    : DEFAULT_COLUMNS;
}

/** Resolves once the user asks to stop (Ctrl-C / SIGTERM), at once if they already did. */
export function untilStopped(io: Io): Promise<void> {
  return new Promise((resolve) => {
    if (io.stopSignal.aborted) resolve();
    else io.stopSignal.addEventListener("abort", () => resolve(), { once: true });
  });
}
