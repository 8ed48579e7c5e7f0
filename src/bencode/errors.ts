import { InputError } from "../util/errors.ts";

/** Malformed bencode: `offset` is the byte position in the input where it went wrong. */
export class BencodeError extends InputError {
  override name = "BencodeError";
  constructor(readonly reason: string, readonly offset: number) {
    super(`invalid bencode at byte ${offset}: ${reason}`);
  }
}
