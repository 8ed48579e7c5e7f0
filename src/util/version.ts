import denoJson from "../../deno.json" with { type: "json" };

/**
 * btx's version, read from deno.json here and nowhere else: `btx --version`, the peer id prefix,
 * a torrent's `created by` and the BEP 10 handshake's `v` all show it.
 */
export const VERSION: string = denoJson.version;
