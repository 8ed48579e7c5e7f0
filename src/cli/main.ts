import { VERSION } from "../util/version.ts";
import { BtxError } from "../util/errors.ts";
import { type Command, type Io, parseCommandArgs, UsageError } from "./io.ts";
import { createCommand } from "./create.ts";
import { infoCommand } from "./info.ts";
import { trackerCommand } from "./tracker.ts";
import { getCommand } from "./get.ts";
import { seedCommand } from "./seed.ts";
import { demoCommand } from "./demo.ts";

/** Every subcommand, in the order `btx --help` lists them. */
const commands: Command[] = [
  trackerCommand,
  seedCommand,
  getCommand,
  createCommand,
  infoCommand,
  demoCommand,
];

function mainUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: btx <command> [options]",
    "",
    "A BitTorrent client, seeder and tracker.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'btx <command> --help' for a command's options. 'btx --version' prints the version.",
  ].join("\n");
}

/** Runs the CLI; returns the process exit code. Errors are caught here, once. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.err : io.out)(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.out(`btx ${VERSION}`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`btx: unknown command "${name}"`);
    io.err(mainUsage());
    return 2;
  }
  try {
    if (parseCommandArgs(rest, {}).values.help === true && rest.length === 1) {
      io.out(command.usage);
      return 0;
    }
  } catch {
    // Not a bare --help: the command parses its own flags below.
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`btx ${name}: ${e.message}`);
      io.err(command.usage);
      return 2;
    }
    if (e instanceof BtxError) {
      io.err(`btx ${name}: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      io.err(`btx ${name}: ${(e as Error).message}`);
      return 1;
    }
    io.err(`btx ${name}: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  }
}

/** The Io that writes to the real terminal and listens for Ctrl-C. */
export function processIo(): Io {
  const encoder = new TextEncoder();
  let controller: AbortController | undefined;
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    write: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
    isTty: Deno.stdout.isTerminal(),
    // Listeners are installed only when a command asks, so short commands keep the default
    // Ctrl-C behaviour. A second Ctrl-C while stopping exits at once.
    get stopSignal() {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        const onSignal = () => c.signal.aborted ? Deno.exit(130) : c.abort();
        for (const sig of ["SIGINT", "SIGTERM"] as const) {
          try {
            Deno.addSignalListener(sig, onSignal);
          } catch {
            // Not every platform has both signals.
          }
        }
      }
      return controller.signal;
    },
  };
}
