import { InputError } from "../util/errors.ts";

/** A .torrent that decodes but breaks BEP 3's rules; `field` names the offending key. */
export class MetainfoError extends InputError {
  override name = "MetainfoError";
  constructor(readonly field: string, readonly reason: string) {
    super(`invalid torrent: ${field}: ${reason}`);
  }
}

/** `createTorrent` was pointed at something it cannot share (nothing to hash, bad option). */
export class CreateTorrentError extends InputError {
  override name = "CreateTorrentError";
  constructor(readonly path: string, readonly reason: string) {
    super(`cannot create a torrent from ${path}: ${reason}`);
  }
}
