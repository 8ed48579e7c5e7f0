import { torrentUrlFor } from "./load.ts";

export interface PublishResult {
  /** True when the tracker stored (or already had) the torrent. */
  published: boolean;
  /** Why not, or the tracker's answer, for the user. */
  message: string;
}

/**
 * Offers a .torrent to a btx tracker's `POST /torrents` so others can discover it. A tracker
 * without that route (any non-btx tracker) is not an error: the result says so.
 */
export async function publishTorrent(
  trackerUrl: string,
  torrent: Uint8Array,
  options: { token?: string; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<PublishResult> {
  const url = torrentUrlFor(trackerUrl, "").replace(/\/$/, "");
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000)];
  if (options.signal) signals.push(options.signal);
  try {
    const res = await fetch(url, {
      method: "POST",
      body: new Uint8Array(torrent),
      headers: {
        "content-type": "application/x-bittorrent",
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      signal: AbortSignal.any(signals),
    });
    const text = (await res.text()).slice(0, 500);
    if (res.ok) return { published: true, message: `published to ${url}` };
    if (res.status === 404) return { published: false, message: `${url} does not take torrents` };
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    return { published: false, message: `${url} refused the torrent (${res.status}): ${reason}` };
  } catch (e) {
    return {
      published: false,
      message: `cannot reach ${url}: ${e instanceof Error ? e.message : e}`,
    };
  }
}
