import type { Metainfo } from "../torrent/mod.ts";
import { Client, type ClientOptions } from "./client.ts";
import { type SessionOptions, type SessionStats, TorrentSession } from "./session/session.ts";

/** Options of {@link download} and {@link seed}: a session's, plus the listening port. */
export type TransferOptions =
  & Omit<SessionOptions, "seed">
  & Pick<ClientOptions, "port" | "hostname">
  & {
    /** Stops the transfer early (download rejects with the signal's reason). */
    signal?: AbortSignal;
  };

/**
 * Downloads a torrent into `options.dir` and resolves once every piece is verified on disk,
 * with the final statistics. Data already present is checked and kept.
 * @throws {StorageError} on disk errors; the signal's reason when aborted.
 */
export async function download(meta: Metainfo, options: TransferOptions): Promise<SessionStats> {
  const client = Client.start({
    port: options.port ?? 0,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  });
  let session: TorrentSession | undefined;
  try {
    session = await TorrentSession.start(client, meta, { ...options, seed: false });
    const aborted = new Promise<Error>((resolve) => {
      const signal = options.signal;
      if (!signal) return;
      const onAbort = () =>
        resolve(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    const outcome = await Promise.race([
      session.complete.then(() => undefined),
      session.failed,
      aborted,
    ]);
    if (outcome instanceof Error) throw outcome;
    await session.stop();
    return session.stats();
  } finally {
    await session?.stop();
    await client.close();
  }
}

/** A running seeder returned by {@link seed}. */
export interface Seeder {
  session: TorrentSession;
  /** The port peers connect to. */
  port: number;
  /** Announces `stopped` and closes everything. */
  stop(): Promise<void>;
}

/**
 * Verifies the data of `meta` under `options.dir` and serves it (announcing to its trackers)
 * until `stop()` is called.
 */
export async function seed(meta: Metainfo, options: TransferOptions): Promise<Seeder> {
  const client = Client.start({
    port: options.port ?? 0,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  });
  try {
    const session = await TorrentSession.start(client, meta, {
      existingData: true,
      download: false,
      ...options,
      seed: true,
    });
    return {
      session,
      port: client.port,
      async stop() {
        await session.stop();
        await client.close();
      },
    };
  } catch (e) {
    await client.close();
    throw e;
  }
}
