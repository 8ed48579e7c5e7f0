import { InputError } from "../util/errors.ts";

/** A .torrent that decodes but breaks BEP 3's rules; `field` names the offending key. */
export class MetainfoError extends InputError {
  override name = "MetainfoError";
  constructor(readonly field: string, readonly reason: string) {
    super(`invalid torrent: ${field}: ${reason}`);
  }
}
