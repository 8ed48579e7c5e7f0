import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { type SessionEvent, TorrentSession } from "../../src/client/session/session.ts";
import { type Metainfo, parseMetainfo } from "../../src/torrent/mod.ts";
import { equals } from "../../src/util/bytes.ts";
import { content, handTorrent } from "./helpers.ts";

export const PIECE_LENGTH = 32 * 1024;
/** 21 pieces of two 16 KiB blocks each, the last one short (so the bitfield has spare bits). */
export const DATA = content(21 * PIECE_LENGTH - 5000, 99);
export const TORRENT = handTorrent("data.bin", DATA, PIECE_LENGTH);
export const META: Metainfo = parseMetainfo(TORRENT);

const LOOPBACK = "127.0.0.1";

/** An in-process session with its own listening client and a log of its events. */
export interface TestSession {
  session: TorrentSession;
  client: Client;
  events: SessionEvent[];
  address: { hostname: string; port: number };
  /** Disconnect reasons by peer key. */
  reasons(): Map<string, string[]>;
  close(): Promise<void>;
}

/** Starts a session in `dir` (a seeder when the data is there). */
export async function startSession(
  dir: string,
  opts: { peers?: { hostname: string; port: number }[]; maxUnverifiedBytes?: number } = {},
): Promise<TestSession> {
  const client = Client.start({ port: 0, hostname: LOOPBACK });
  const events: SessionEvent[] = [];
  const session = await TorrentSession.start(client, META, {
    dir,
    seed: true,
    trackers: [],
    peers: opts.peers ?? [],
    ...(opts.maxUnverifiedBytes === undefined
      ? {}
      : { maxUnverifiedBytes: opts.maxUnverifiedBytes }),
    onEvent: (e) => events.push(e),
  });
  return {
    session,
    client,
    events,
    address: { hostname: LOOPBACK, port: client.port },
    reasons() {
      const out = new Map<string, string[]>();
      for (const e of events) {
        if (e.type === "peer" && !e.connected) {
          out.set(e.peer, [...(out.get(e.peer) ?? []), e.reason ?? "closed"]);
        }
      }
      return out;
    },
    async close() {
      await session.stop();
      await client.close();
    },
  };
}

/** Writes the torrent's data into `dir` so a session there seeds it. */
export async function writeData(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, META.name), DATA);
}

/** True when `dir` holds exactly the torrent's data. */
export async function hasData(dir: string): Promise<boolean> {
  return equals(await Deno.readFile(join(dir, META.name)), DATA);
}

/**
 * Waits for `p`, but fails after `ms` with `what` instead of hanging the whole suite. Not a
 * timing assertion: the bound is far above what the step needs even on a loaded machine.
 */
export async function within<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}
