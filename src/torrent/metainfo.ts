import {
  type BDict,
  type BValue,
  decodeWithSpans,
  isBytes,
  isDict,
  isInt,
  isList,
} from "../bencode/mod.ts";
import { toHex, utf8 } from "../util/bytes.ts";
import { sha1 } from "../util/sha1.ts";
import { MetainfoError } from "./errors.ts";
import type { Metainfo, TorrentFile } from "./types.ts";

/** Largest piece length accepted. Real torrents stay far below; this bounds per-piece buffers. */
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
/** Longest path component in bytes (the common file-system limit). */
export const MAX_COMPONENT_BYTES = 255;

/**
 * Parses and validates a .torrent file (BEP 3, with BEP 12 tiers, BEP 19 web seeds, BEP 27
 * private flag and BEP 47 pad files). The info hash is SHA-1 over the info dictionary's exact
 * bytes in `bytes`, so torrents with unsorted keys or odd encodings keep their real hash.
 * @throws {BencodeError} when the data is not bencode, with the byte offset.
 * @throws {MetainfoError} when a field is missing or unsafe, naming the field.
 */
export function parseMetainfo(bytes: Uint8Array): Metainfo {
  const { value: root, spans } = decodeWithSpans(bytes);
  if (!isDict(root)) throw new MetainfoError("(root)", "not a dictionary");
  const info = root.get("info");
  if (!isDict(info)) {
    throw new MetainfoError("info", info === undefined ? "missing" : "not a dictionary");
  }
  const span = spans.get(info);
  if (!span) throw new MetainfoError("info", "no byte span (decoder bug)");
  // Copied so the Metainfo does not pin (or change with) the caller's buffer.
  const infoBytes = bytes.slice(span.start, span.end);
  const infoHash = sha1(infoBytes);

  const pieceLength = requireInt(info, "piece length", "info.piece length");
  if (pieceLength < 1 || pieceLength > MAX_PIECE_LENGTH) {
    throw new MetainfoError(
      "info.piece length",
      `${pieceLength} is outside 1..${MAX_PIECE_LENGTH}`,
    );
  }
  const piecesRaw = info.get("pieces");
  if (!isBytes(piecesRaw)) {
    throw new MetainfoError(
      "info.pieces",
      piecesRaw === undefined ? "missing" : "not a byte string",
    );
  }
  if (piecesRaw.length % 20 !== 0) {
    throw new MetainfoError("info.pieces", `length ${piecesRaw.length} is not a multiple of 20`);
  }

  const nameBytes = preferUtf8Key(info, "name");
  if (!nameBytes) throw new MetainfoError("info.name", "missing or not a byte string");
  const name = checkComponent(nameBytes.value, `info.${nameBytes.key}`);

  const { files, multiFile } = parseFiles(info, name);
  const length = files.length === 0
    ? 0
    : files[files.length - 1]!.offset + files[files.length - 1]!.length;
  if (!Number.isSafeInteger(length)) {
    throw new MetainfoError("info.length", "total length is too large");
  }
  if (length === 0) {
    throw new MetainfoError(multiFile ? "info.files" : "info.length", "torrent holds no data");
  }
  const pieceCount = piecesRaw.length / 20;
  const expected = Math.ceil(length / pieceLength);
  if (pieceCount !== expected) {
    throw new MetainfoError(
      "info.pieces",
      `${pieceCount} piece hashes, but ${length} bytes in ${pieceLength}-byte pieces need ${expected}`,
    );
  }

  const announceRaw = root.get("announce");
  const announce = isBytes(announceRaw) && announceRaw.length > 0 ? utf8(announceRaw) : undefined;
  const announceList = parseAnnounceList(root.get("announce-list"));
  if (announceList.length === 0 && announce !== undefined) announceList.push([announce]);

  const metainfo: Metainfo = {
    infoHash,
    infoHashHex: toHex(infoHash),
    infoBytes,
    name,
    pieceLength,
    pieceCount,
    pieces: piecesRaw.slice(),
    length,
    files,
    multiFile,
    private: info.get("private") === 1,
    announceList,
    urlList: parseUrlList(root.get("url-list")),
    raw: root,
  };
  if (announce !== undefined) metainfo.announce = announce;
  const comment = preferUtf8Key(root, "comment");
  if (comment) metainfo.comment = utf8(comment.value);
  const createdBy = root.get("created by");
  if (isBytes(createdBy)) metainfo.createdBy = utf8(createdBy);
  const creationDate = root.get("creation date");
  if (typeof creationDate === "number") metainfo.creationDate = creationDate;
  return metainfo;
}

function parseFiles(info: BDict, name: string): { files: TorrentFile[]; multiFile: boolean } {
  const list = info.get("files");
  const single = info.get("length");
  if (list !== undefined && single !== undefined) {
    throw new MetainfoError("info", "has both 'length' and 'files'");
  }
  if (list === undefined) {
    if (single === undefined) throw new MetainfoError("info", "has neither 'length' nor 'files'");
    const length = requireInt(info, "length", "info.length");
    return { files: [{ path: [name], length, offset: 0, pad: false }], multiFile: false };
  }
  if (!isList(list)) throw new MetainfoError("info.files", "not a list");
  if (list.length === 0) throw new MetainfoError("info.files", "empty list");

  const files: TorrentFile[] = [];
  const paths = new PathIndex();
  let offset = 0;
  list.forEach((entry, i) => {
    const where = `info.files[${i}]`;
    if (!isDict(entry)) throw new MetainfoError(where, "not a dictionary");
    const length = requireInt(entry, "length", `${where}.length`);
    const pathKey = isList(entry.get("path.utf-8")) ? "path.utf-8" : "path";
    const rawPath = entry.get(pathKey);
    if (!isList(rawPath)) throw new MetainfoError(`${where}.path`, "missing or not a list");
    if (rawPath.length === 0) throw new MetainfoError(`${where}.path`, "empty list");
    const path = rawPath.map((c, j) => {
      if (!isBytes(c)) throw new MetainfoError(`${where}.${pathKey}[${j}]`, "not a byte string");
      return checkComponent(c, `${where}.${pathKey}[${j}]`);
    });
    const attr = entry.get("attr");
    const pad = isBytes(attr) && attr.includes(0x70 /* p */);
    // Pad files are never written, and libtorrent names many of them identically (.pad/N).
    if (!pad) paths.add(path, `${where}.path`);
    files.push({ path, length, offset, pad });
    offset += length;
  });
  return { files, multiFile: true };
}

/**
 * The paths seen so far, as a trie of (parent node, component) keys, so that rejecting a path
 * that repeats another, or that is a file in one entry and a folder in another, costs time
 * linear in the path. (Joining every prefix was quadratic: a 90 KB torrent with one deep path
 * took seconds.)
 */
class PathIndex {
  readonly #nodes = new Map<string, number>();
  readonly #files = new Set<number>();
  #next = 1;

  add(path: string[], field: string): void {
    let parent = 0;
    for (let i = 0; i < path.length; i++) {
      // Components never contain "/", so the key is unambiguous.
      const key = `${parent}/${path[i]}`;
      const last = i === path.length - 1;
      let node = this.#nodes.get(key);
      if (node === undefined) {
        node = this.#next++;
        this.#nodes.set(key, node);
        if (last) this.#files.add(node);
      } else if (last || this.#files.has(node)) {
        const shown = path.slice(0, i + 1).join("/");
        if (last && this.#files.has(node)) {
          throw new MetainfoError(field, `duplicate path "${shown}"`);
        }
        throw new MetainfoError(field, `"${shown}" is both a file and a folder`);
      }
      parent = node;
    }
  }
}

/**
 * Validates one path component against traversal and platform tricks and decodes it as UTF-8
 * (invalid sequences become U+FFFD rather than failing: old torrents use legacy encodings).
 */
export function checkComponent(raw: Uint8Array, field: string): string {
  if (raw.length === 0) throw new MetainfoError(field, "empty path component");
  if (raw.length > MAX_COMPONENT_BYTES) {
    throw new MetainfoError(
      field,
      `path component of ${raw.length} bytes (max ${MAX_COMPONENT_BYTES})`,
    );
  }
  for (const byte of raw) {
    if (byte === 0) throw new MetainfoError(field, "path component contains NUL");
    if (byte === 0x2f) throw new MetainfoError(field, "path component contains '/'");
    if (byte === 0x5c) throw new MetainfoError(field, "path component contains '\\'");
  }
  const text = utf8(raw);
  if (text === "." || text === "..") throw new MetainfoError(field, `path component "${text}"`);
  if (/^[A-Za-z]:/.test(text)) {
    throw new MetainfoError(field, `path component "${text}" is a drive letter`);
  }
  return text;
}

function parseAnnounceList(value: BValue | undefined): string[][] {
  // Lenient on purpose, like libtorrent: junk tiers or entries are dropped, not fatal.
  if (!isList(value)) return [];
  const tiers: string[][] = [];
  for (const tier of value) {
    if (!isList(tier)) continue;
    const urls = tier.filter((u) => isBytes(u) && u.length > 0).map((u) => utf8(u as Uint8Array));
    if (urls.length > 0) tiers.push(urls);
  }
  return tiers;
}

function parseUrlList(value: BValue | undefined): string[] {
  if (isBytes(value)) return value.length > 0 ? [utf8(value)] : [];
  if (!isList(value)) return [];
  return value.filter((u) => isBytes(u) && u.length > 0).map((u) => utf8(u as Uint8Array));
}

/** BEP 3 clients write `key.utf-8` next to a legacy-encoded `key`; the UTF-8 one wins. */
function preferUtf8Key(dict: BDict, key: string): { key: string; value: Uint8Array } | undefined {
  const utf = dict.get(`${key}.utf-8`);
  if (isBytes(utf)) return { key: `${key}.utf-8`, value: utf };
  const plain = dict.get(key);
  return isBytes(plain) ? { key, value: plain } : undefined;
}

function requireInt(dict: BDict, key: string, field: string): number {
  const v = dict.get(key);
  if (v === undefined) throw new MetainfoError(field, "missing");
  if (!isInt(v)) throw new MetainfoError(field, "not an integer");
  if (typeof v === "bigint" || v < 0) throw new MetainfoError(field, `${v} is out of range`);
  return v;
}
