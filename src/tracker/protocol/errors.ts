import { BtxError, InputError } from "../../util/errors.ts";

/**
 * A client sent an announce or scrape the tracker refuses. `reason` is what goes into the
 * bencoded `failure reason`, so every client shows it to its user.
 */
export class TrackerRequestError extends InputError {
  override name = "TrackerRequestError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The tracker could not start or do its job (bad torrents folder, port in use...). */
export class TrackerError extends BtxError {
  override name = "TrackerError";
}
