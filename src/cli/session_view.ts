import type { SessionEvent } from "../client/session/session.ts";
import type { Io } from "./io.ts";
import { createProgress, type Progress } from "./progress.ts";

export interface SessionViewOptions {
  label: string;
  json: boolean;
  verbose: boolean;
}

/**
 * Renders a session's events: the progress bar / lines / JSON, plus peer and warning lines
 * with --verbose. Warnings show once each without --verbose, so a dead tracker is visible
 * but does not flood the terminal.
 */
const CHECK_QUIET_MS = 500;

export function sessionView(io: Io, o: SessionViewOptions) {
  const progress: Progress = createProgress(io, { json: o.json, label: o.label });
  // Checking existing data is its own bar, ended when the transfer starts.
  let checking: Progress | undefined;
  let checkingSince: number | undefined;
  const endChecking = () => {
    checking?.done();
    checking = undefined;
  };
  const warned = new Set<string>();
  let finished = false;
  const note = (line: string, event: Record<string, unknown>) => {
    if (o.json) io.out(JSON.stringify(event));
    else io.err(line);
  };
  return {
    progress,
    onEvent(e: SessionEvent): void {
      if (finished) return;
      switch (e.type) {
        case "checking":
          // A check that ends at once (nothing on disk yet) is not worth a progress line
          // (JSON consumers still get every event).
          checkingSince ??= performance.now();
          if (!o.json && !checking && performance.now() - checkingSince < CHECK_QUIET_MS) return;
          checking ??= createProgress(io, { json: o.json, label: o.label });
          return checking.update({ phase: "checking", total: e.total, done: e.checked });
        case "progress":
        case "complete": {
          endChecking();
          const s = e.stats;
          const state = {
            phase: e.type === "complete" ? "complete" : s.state,
            total: s.total,
            done: s.have,
            downRate: s.downRate,
            upRate: s.upRate,
            peers: s.peers,
            seeds: s.seeds,
          };
          if (e.type === "complete") {
            finished = true;
            return progress.done(state);
          }
          return progress.update(state);
        }
        case "peer":
          if (!o.verbose) return;
          return note(
            `peer ${e.peer} ${
              e.connected ? "connected" : `disconnected${e.reason ? `: ${e.reason}` : ""}`
            }`,
            { event: "peer", ...e },
          );
        case "warning":
          if (!o.verbose && warned.has(e.message)) return;
          warned.add(e.message);
          return note(`warning: ${e.message}`, { event: "warning", message: e.message });
      }
    },
    /** Ends the display, e.g. before printing the final summary. */
    end(): void {
      endChecking();
      if (!finished) progress.done();
      finished = true;
    },
  };
}
