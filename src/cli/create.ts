import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../util/errors.ts";
import { createTorrent, type CreateTorrentOptions, formatMagnet } from "../torrent/mod.ts";
import { type Command, formatBytes, type Io, parseCommandArgs, UsageError } from "./io.ts";

const usage = `Usage: btx create <file|folder> [options]

Hashes a file or folder and writes a .torrent (BEP 3).

Options:
  -o, --output FILE       where to write (default: torrents/<name>.torrent)
  --piece-length N        bytes per piece, a power of two; K and M suffixes allowed
                          (default: aims at 1,000-2,000 pieces, 16 KiB..16 MiB)
  -t, --tracker URL       announce URL; repeat for backup trackers (one tier each)
  -w, --web-seed URL      BEP 19 web seed; repeatable
  --private               set the BEP 27 private flag
  --comment TEXT          comment stored in the torrent
  --name NAME             torrent name (default: the file or folder's name)
  --no-date               leave out the creation date (reproducible output)
  -f, --force             overwrite an existing output file
  --json                  print the result as JSON`;

/** Parses "262144", "256K", "256KiB", "4M": bytes, or throws a UsageError. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} must be bytes or use a K/M suffix, got "${text}"`);
  const unit = (m[2] ?? "").toLowerCase();
  const factor = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
  return Number(m[1]) * factor;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    output: { type: "string", short: "o" },
    "piece-length": { type: "string" },
    tracker: { type: "string", short: "t", multiple: true },
    "web-seed": { type: "string", short: "w", multiple: true },
    private: { type: "boolean" },
    comment: { type: "string" },
    name: { type: "string" },
    "no-date": { type: "boolean" },
    force: { type: "boolean", short: "f" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("expected exactly one file or folder");
  const source = positionals[0]!;
  const opts: CreateTorrentOptions = {
    trackers: values.tracker ?? [],
    webSeeds: values["web-seed"] ?? [],
    private: values.private === true,
    signal: io.stopSignal,
  };
  if (values["piece-length"] !== undefined) {
    opts.pieceLength = parseSize(values["piece-length"], "piece-length");
  }
  if (values.comment !== undefined) opts.comment = values.comment;
  if (values.name !== undefined) opts.name = values.name;
  if (values["no-date"] === true) opts.creationDate = false;

  // Name known before hashing, so an existing output is refused before the long part.
  const sourceName = values.name ?? basename(resolve(source));
  const output = values.output ?? join("torrents", `${sourceName}.torrent`);
  if (values.force !== true && await exists(output)) {
    throw new InputError(`${output} already exists (use --force to overwrite)`);
  }

  const json = values.json === true;
  if (!json) opts.onProgress = progressPrinter(io);
  const { torrent, metainfo, skipped } = await createTorrent(source, opts);
  if (!json && io.isTty) io.write("\r\x1b[K");

  await Deno.mkdir(dirname(output), { recursive: true });
  await Deno.writeFile(output, torrent, values.force === true ? {} : { createNew: true });
  const magnet = formatMagnet({
    infoHashHex: metainfo.infoHashHex,
    name: metainfo.name,
    trackers: metainfo.announceList.flat(),
  });
  if (json) {
    io.out(JSON.stringify({
      output,
      infoHash: metainfo.infoHashHex,
      magnet,
      name: metainfo.name,
      length: metainfo.length,
      pieceLength: metainfo.pieceLength,
      pieceCount: metainfo.pieceCount,
      files: metainfo.files.length,
      skipped,
    }));
    return 0;
  }
  for (const path of skipped) io.err(`skipped ${path} (symlink or special file)`);
  io.out(`wrote      ${output}`);
  io.out(`name       ${metainfo.name}`);
  io.out(`size       ${formatBytes(metainfo.length)} in ${metainfo.files.length} file(s)`);
  io.out(`pieces     ${metainfo.pieceCount} x ${formatBytes(metainfo.pieceLength)}`);
  io.out(`info hash  ${metainfo.infoHashHex}`);
  io.out(`magnet     ${magnet}`);
  return 0;
}

/** Redraws one line on a terminal; otherwise prints a line at each further 25%. */
function progressPrinter(io: Io): (done: number, total: number) => void {
  let lastQuarter = 0;
  return (done, total) => {
    const pct = Math.floor((done / total) * 100);
    if (io.isTty) {
      io.write(`\rhashing ${pct}% (${formatBytes(done)} / ${formatBytes(total)})`);
    } else if (Math.floor(pct / 25) > lastQuarter && done < total) {
      lastQuarter = Math.floor(pct / 25);
      io.err(`hashing ${pct}%`);
    }
  };
}

export const createCommand: Command = {
  name: "create",
  summary: "make a .torrent from a file or folder",
  usage,
  run,
};
