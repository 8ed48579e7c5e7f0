import { BtxError, InputError } from "../../util/errors.ts";

/**
 * What went wrong with a tracker. Client side: `failure` (the tracker refused, with its own
 * words), `http`, `timeout`, `network`, `protocol` (an answer we cannot read), `unsupported`
 * (a URL we cannot use), `aborted`. Server side: `server` (the tracker could not start or do
 * its job: bad torrents folder, port in use...) and `publish` (a published body is no torrent).
 */
export type TrackerErrorKind =
  | "failure"
  | "http"
  | "timeout"
  | "network"
  | "protocol"
  | "unsupported"
  | "aborted"
  | "server"
  | "publish";

/**
 * A tracker operation failed, on either side of the protocol. `url` is the tracker's announce
 * (or scrape) URL, or "" when the error is not about one tracker URL (a tracker list as a whole,
 * the tracker server itself).
 */
export class TrackerError extends BtxError {
  override name = "TrackerError";
  constructor(readonly url: string, readonly kind: TrackerErrorKind, readonly reason: string) {
    super(url === "" ? reason : `tracker ${url}: ${reason}`);
  }

  /** The tracker server could not start or do its job. */
  static server(reason: string): TrackerError {
    return new TrackerError("", "server", reason);
  }
}

/**
 * A client sent an announce or scrape the tracker refuses. `reason` is what goes into the
 * bencoded `failure reason` (or a UDP error packet), so every client shows it to its user.
 */
export class TrackerRequestError extends InputError {
  override name = "TrackerRequestError";
  constructor(readonly reason: string) {
    super(reason);
  }
}
