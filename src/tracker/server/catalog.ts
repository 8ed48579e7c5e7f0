/**
 * The torrents folder: published .torrent files, one `<infohash>.torrent` each. It is the
 * tracker's content list (GET /torrents, the HTML page) and its `--whitelist`. Files are
 * written to a temporary name and renamed, so a crash never leaves half a torrent behind.
 */
import { BencodeError } from "../../bencode/mod.ts";
import { type Metainfo, MetainfoError, parseMetainfo } from "../../torrent/mod.ts";
import { TrackerError } from "../protocol/errors.ts";

/** One published torrent, as listed. */
export interface CatalogEntry {
  /** Binary string (swarm key). */
  infoHash: string;
  infoHashHex: string;
  name: string;
  /** Total size in bytes. */
  length: number;
  fileCount: number;
  /** Milliseconds since the epoch. */
  addedAt: number;
}

/** A published body that is not a valid torrent: the HTTP layer answers 400 with `reason`. */
export class PublishError extends TrackerError {
  override name = "PublishError";
  constructor(reason: string) {
    super("", "publish", reason);
  }
}

function entryOf(m: Metainfo, addedAt: number): CatalogEntry {
  let binary = "";
  for (const b of m.infoHash) binary += String.fromCharCode(b);
  return {
    infoHash: binary,
    infoHashHex: m.infoHashHex,
    name: m.name,
    length: m.length,
    // BEP 47 padding files are an artefact of the layout, not content.
    fileCount: m.files.filter((f) => !f.pad).length,
    addedAt,
  };
}

const FILE_NAME = /^([0-9a-f]{40})\.torrent$/;

export class TorrentCatalog {
  readonly #entries = new Map<string, CatalogEntry>();

  private constructor(readonly dir: string) {}

  /**
   * Opens (creating if needed) a torrents folder and loads every valid `<hex>.torrent` in
   * it. Files that fail to parse are skipped and passed to `onSkip`.
   */
  static async open(
    dir: string,
    onSkip: (file: string, reason: string) => void = () => {},
  ): Promise<TorrentCatalog> {
    const catalog = new TorrentCatalog(dir);
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      throw TrackerError.server(`cannot create torrents folder ${dir}: ${(e as Error).message}`);
    }
    for await (const item of Deno.readDir(dir)) {
      const match = FILE_NAME.exec(item.name);
      if (!item.isFile || !match) continue;
      const path = `${dir}/${item.name}`;
      try {
        const bytes = await Deno.readFile(path);
        const m = parseMetainfo(bytes);
        if (m.infoHashHex !== match[1]) {
          onSkip(path, `info hash is ${m.infoHashHex}, not the file name's`);
          continue;
        }
        const { mtime } = await Deno.stat(path);
        const entry = entryOf(m, mtime?.getTime() ?? Date.now());
        catalog.#entries.set(entry.infoHash, entry);
      } catch (e) {
        onSkip(path, e instanceof Error ? e.message : String(e));
      }
    }
    return catalog;
  }

  /** True when this binary info hash is published. */
  has(infoHash: string): boolean {
    return this.#entries.has(infoHash);
  }

  get(infoHash: string): CatalogEntry | undefined {
    return this.#entries.get(infoHash);
  }

  /** Newest first. */
  list(): CatalogEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.addedAt - a.addedAt);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Validates and stores a .torrent. Publishing the same info hash again keeps the first
   * file (`created: false`).
   * @throws {PublishError} when the bytes are not a valid torrent.
   */
  async add(
    bytes: Uint8Array,
    now = Date.now(),
  ): Promise<{ entry: CatalogEntry; created: boolean }> {
    let m: Metainfo;
    try {
      m = parseMetainfo(bytes);
    } catch (e) {
      if (e instanceof BencodeError || e instanceof MetainfoError) {
        throw new PublishError(`not a valid torrent: ${e.message}`);
      }
      throw e;
    }
    const entry = entryOf(m, now);
    const existing = this.#entries.get(entry.infoHash);
    if (existing) return { entry: existing, created: false };
    const path = this.#path(entry.infoHashHex);
    const temp = `${path}.${crypto.randomUUID()}.partial`;
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, path);
    this.#entries.set(entry.infoHash, entry);
    return { entry, created: true };
  }

  /** The stored .torrent bytes, or undefined when not published. */
  async read(infoHash: string): Promise<Uint8Array | undefined> {
    const entry = this.#entries.get(infoHash);
    if (!entry) return undefined;
    try {
      return await Deno.readFile(this.#path(entry.infoHashHex));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  #path(hex: string): string {
    return `${this.dir}/${hex}.torrent`;
  }
}
