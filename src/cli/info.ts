import {
  formatMagnet,
  type Magnet,
  type Metainfo,
  parseMagnet,
  parseMetainfo,
} from "../torrent/mod.ts";
import { InputError } from "../util/errors.ts";
import { type Command, formatBytes, type Io, parseCommandArgs, UsageError } from "./io.ts";

const usage = `Usage: btx info <file.torrent | magnet-uri> [--json]

Shows what a .torrent or magnet link describes: name, info hash, size, pieces, files,
trackers, web seeds and the other metainfo fields.

Options:
  --json   print as JSON`;

/** The JSON shape of `btx info` for a .torrent (stable: scripts read it). */
export function metainfoSummary(m: Metainfo) {
  return {
    name: m.name,
    infoHash: m.infoHashHex,
    length: m.length,
    pieceLength: m.pieceLength,
    pieceCount: m.pieceCount,
    multiFile: m.multiFile,
    files: m.files.map((f) => ({
      path: f.path.join("/"),
      length: f.length,
      ...(f.pad ? { pad: true } : {}),
    })),
    announceList: m.announceList,
    urlList: m.urlList,
    private: m.private,
    comment: m.comment ?? null,
    createdBy: m.createdBy ?? null,
    creationDate: m.creationDate ?? null,
    magnet: magnetOf(m),
  };
}

function magnetOf(m: Metainfo): string {
  return formatMagnet({
    infoHashHex: m.infoHashHex,
    name: m.name,
    trackers: m.announceList.flat(),
  });
}

function printMetainfo(m: Metainfo, io: Io) {
  const row = (label: string, value: string) => io.out(`${label.padEnd(14)}${value}`);
  row("name", m.name);
  row("info hash", m.infoHashHex);
  row("size", `${formatBytes(m.length)} (${m.length} bytes)`);
  row("pieces", `${m.pieceCount} x ${formatBytes(m.pieceLength)}`);
  row("private", m.private ? "yes" : "no");
  if (m.comment !== undefined) row("comment", m.comment);
  if (m.createdBy !== undefined) row("created by", m.createdBy);
  if (m.creationDate !== undefined) {
    const when = new Date(m.creationDate * 1000);
    row("created", Number.isNaN(when.getTime()) ? String(m.creationDate) : when.toISOString());
  }
  if (m.announceList.length === 0) row("trackers", "(none)");
  m.announceList.forEach((tier, i) =>
    row(i === 0 ? "trackers" : "", `tier ${i + 1}: ${tier.join(" ")}`)
  );
  m.urlList.forEach((url, i) => row(i === 0 ? "web seeds" : "", url));
  row("magnet", magnetOf(m));
  const shown = m.files.filter((f) => !f.pad);
  io.out(`files (${shown.length}):`);
  for (const f of shown) {
    const path = m.multiFile ? [m.name, ...f.path].join("/") : f.path.join("/");
    io.out(`  ${formatBytes(f.length).padStart(11)}  ${path}`);
  }
}

function printMagnet(m: Magnet, io: Io, json: boolean) {
  if (json) {
    io.out(
      JSON.stringify({
        infoHash: m.infoHashHex,
        name: m.name ?? null,
        trackers: m.trackers,
        peers: m.peers,
      }),
    );
    return;
  }
  const row = (label: string, value: string) => io.out(`${label.padEnd(14)}${value}`);
  row("name", m.name ?? "(unknown until metadata is fetched)");
  row("info hash", m.infoHashHex);
  if (m.trackers.length === 0) row("trackers", "(none)");
  m.trackers.forEach((t, i) => row(i === 0 ? "trackers" : "", t));
  m.peers.forEach((p, i) => row(i === 0 ? "peers" : "", p));
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError("expected one .torrent file or magnet link");
  const target = positionals[0]!;
  const json = values.json === true;
  if (/^magnet:/i.test(target)) {
    printMagnet(parseMagnet(target), io, json);
    return 0;
  }
  let metainfo: Metainfo;
  try {
    metainfo = parseMetainfo(await Deno.readFile(target));
  } catch (e) {
    // Say which file: the codec errors only know fields and offsets.
    if (e instanceof InputError) e.message = `${target}: ${e.message}`;
    throw e;
  }
  if (json) io.out(JSON.stringify(metainfoSummary(metainfo), null, 2));
  else printMetainfo(metainfo, io);
  return 0;
}

export const infoCommand: Command = {
  name: "info",
  summary: "show what a .torrent or magnet link holds",
  usage,
  run,
};
