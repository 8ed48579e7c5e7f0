/**
 * Torrent metainfo (BEP 3, 12, 19, 27, 47), magnet links (BEP 9) and torrent creation.
 * @module
 */
export type { Metainfo, TorrentFile } from "./types.ts";
export { CreateTorrentError, MetainfoError } from "./errors.ts";
export { MAX_PIECE_LENGTH, parseMetainfo } from "./metainfo.ts";
export { formatMagnet, type Magnet, MagnetError, parseMagnet } from "./magnet.ts";
export {
  autoPieceLength,
  buildInfoDict,
  type CreatedTorrent,
  createTorrent,
  type CreateTorrentOptions,
  listSourceFiles,
} from "./create.ts";
export { BLOCK_SIZE, FileLayout, type FileRange, type LayoutSource } from "./layout.ts";
