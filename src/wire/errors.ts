import { BtxError } from "../util/errors.ts";

/**
 * A peer sent something that breaks the wire protocol, or the connection to it failed.
 * Peers are not the user, so this is an operation failure (exit code 1), not bad input.
 * `peer` is "host:port" when known, so logs say which peer misbehaved.
 */
export class WireError extends BtxError {
  override name = "WireError";
  constructor(readonly reason: string, readonly peer?: string) {
    super(peer === undefined ? `peer wire: ${reason}` : `peer ${peer}: ${reason}`);
  }
}
