import { startTracker } from "../tracker/server/mod.ts";
import { type Command, intFlag, parseCommandArgs, untilStopped, UsageError } from "./io.ts";

const usage = `Usage: btx tracker [options]

Runs an HTTP BitTorrent tracker (announce, scrape) with a content list of published torrents
at / and /torrents, and JSON counters at /stats. Stops on Ctrl-C / SIGTERM.

Options:
  --port N              TCP port (default 9999; 0 picks a free one)
  --host ADDR           address to listen on (default :: = IPv6 and IPv4)
  --interval S          seconds between announces asked of clients (default 1800)
  --torrents-dir DIR    folder of published .torrent files (default torrents)
  --whitelist           track only published torrents (and --whitelist-file hashes)
  --whitelist-file F    extra hex info hashes to track, one per line
  --publish-token T     require "Authorization: Bearer T" to POST /torrents
  --check-peers         handshake with announced peers; stop handing out dead ones
  --allow-ip-param      honour the announce "ip" parameter (trusted networks only)
  --trust-proxy         take the peer address from X-Forwarded-For
  --max-peers N         peers kept per swarm (default 100000)
  --max-swarms N        swarms kept (default 100000)
  --http ENGINE         HTTP server: epoll (Linux, needs --allow-ffi), deno (Deno.serve), or
                        auto (default: epoll where it can run)`;

export const trackerCommand: Command = {
  name: "tracker",
  summary: "run a tracker with a list of published torrents",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      port: { type: "string" },
      host: { type: "string" },
      interval: { type: "string" },
      "torrents-dir": { type: "string" },
      whitelist: { type: "boolean" },
      "whitelist-file": { type: "string" },
      "publish-token": { type: "string" },
      "check-peers": { type: "boolean" },
      "allow-ip-param": { type: "boolean" },
      "trust-proxy": { type: "boolean" },
      "max-peers": { type: "string" },
      "max-swarms": { type: "string" },
      http: { type: "string" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const http = values.http ?? "auto";
    if (http !== "auto" && http !== "epoll" && http !== "deno") {
      throw new UsageError(`--http must be auto, epoll or deno, not "${http}"`);
    }
    const allowed = values["whitelist-file"] === undefined
      ? []
      : (await Deno.readTextFile(values["whitelist-file"])).split(/\s+/).filter((l) => l !== "");
    const running = await startTracker({
      port: intFlag(values.port, "port", 9999, 0, 65535),
      host: values.host ?? "::",
      interval: intFlag(values.interval, "interval", 1800, 1, 86_400),
      torrentsDir: values["torrents-dir"] ?? "torrents",
      whitelist: values.whitelist === true || values["whitelist-file"] !== undefined,
      allowedInfoHashes: allowed,
      ...(values["publish-token"] !== undefined && { publishToken: values["publish-token"] }),
      checkPeers: values["check-peers"] === true,
      allowIpParam: values["allow-ip-param"] === true,
      trustProxy: values["trust-proxy"] === true,
      maxPeersPerSwarm: intFlag(values["max-peers"], "max-peers", 100_000, 1),
      maxSwarms: intFlag(values["max-swarms"], "max-swarms", 100_000, 1),
      http,
      onWarning: (m) => io.err(`btx tracker: ${m}`),
    });
    const { catalog } = running.tracker;
    io.out(
      `tracker listening on port ${running.port} (${running.http} HTTP server), ` +
        `${catalog?.size ?? 0} published torrents`,
    );
    for (const url of running.urls) io.out(`announce URL: ${url}`);
    await untilStopped(io);
    io.out("stopping tracker");
    await running.close();
    return 0;
  },
};
