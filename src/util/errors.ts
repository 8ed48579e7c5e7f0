/**
 * The root of every error btx raises on purpose. The CLI catches these once and prints their
 * message as one line, exiting with `exitCode`; anything else is a bug and is reported as such.
 */
export class BtxError extends Error {
  override name = "BtxError";
  /** 1: the operation failed (network, disk, peers); 2: the input was bad. */
  readonly exitCode: number = 1;
}

/** The user's input (a file, an argument, a URL) is malformed. Exit code 2. */
export class InputError extends BtxError {
  override name = "InputError";
  override readonly exitCode: number = 2;
}
