import type { BDict } from "../bencode/mod.ts";

/** One file of a torrent, in the order of the info dictionary. */
export interface TorrentFile {
  /** Path components below the torrent's root folder, UTF-8 decoded and validated as safe. */
  path: string[];
  length: number;
  /** Byte offset of the file's first byte in the torrent's concatenated data. */
  offset: number;
  /** BEP 47 padding file: its bytes are zeros and are never written to disk. */
  pad: boolean;
}

/** A parsed, validated .torrent (BEP 3, with BEP 12, 19, 27). */
export interface Metainfo {
  /** SHA-1 of the exact info-dictionary bytes as they appear in the file. */
  infoHash: Uint8Array;
  infoHashHex: string;
  /** The raw bencoded info dictionary (what a magnet peer would send us via BEP 9). */
  infoBytes: Uint8Array;
  /** The torrent's name: the single file's name, or the root folder of a multi-file torrent. */
  name: string;
  pieceLength: number;
  pieceCount: number;
  /** Concatenated 20-byte SHA-1 piece hashes. */
  pieces: Uint8Array;
  /** Total length of all files. */
  length: number;
  /** Single-file torrents have one file whose path is [name]. */
  files: TorrentFile[];
  /** True when the info dict has `files` (data lives under a folder named `name`). */
  multiFile: boolean;
  private: boolean;
  /** Tracker tiers (BEP 12). When only `announce` is present it is the single tier. */
  announceList: string[][];
  announce?: string;
  /** BEP 19 web seeds. */
  urlList: string[];
  comment?: string;
  createdBy?: string;
  /** Seconds since the epoch. */
  creationDate?: number;
  /** The whole decoded top-level dictionary, for fields btx does not model. */
  raw: BDict;
}
