/**
 * Interop: our HTTP tracker client against opentracker, a real tracker that compares the
 * info_hash byte for byte (Debian's build only serves whitelisted hashes).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { announce, scrape, TrackerError } from "../../../src/tracker/client/announce.ts";
import { generatePeerId } from "../../../src/client/peers/peer_id.ts";
import { toHex } from "../../../src/util/bytes.ts";
import { AWKWARD_INFO_HASH, closedPort } from "./tracker_server.ts";

const OPENTRACKER = "/usr/bin/opentracker";
const missing = (() => {
  try {
    Deno.statSync(OPENTRACKER);
    return false;
  } catch {
    return true;
  }
})();
// Outside CI a missing tracker skips the test; in CI the test runs and fails.
const skip = missing && !Deno.env.get("CI");
if (skip) console.log(`skipping opentracker interop: ${OPENTRACKER} is not installed`);

const INFO_HASH = AWKWARD_INFO_HASH;

async function waitForPort(port: number, child: Deno.ChildProcess) {
  let exited = false;
  child.status.then(() => exited = true);
  for (let attempt = 0; attempt < 600 && !exited; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`opentracker did not listen on ${port}`);
}

async function retryWhileUnauthorized<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof TrackerError && e.kind === "failure") || attempt >= 400) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

Deno.test({
  name: "opentracker accepts our announces, returns our peers and scrapes our hash",
  ignore: skip,
  async fn() {
    if (missing) throw new Error(`${OPENTRACKER} is required (apt-get install opentracker)`);
    const dir = await Deno.makeTempDir();
    // Run as root, opentracker chroots here and drops to "nobody", who must read the list.
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(join(dir, "whitelist"), `${toHex(INFO_HASH)}\n`);
    const port = closedPort();
    const child = new Deno.Command(OPENTRACKER, {
      args: [
        "-i",
        "127.0.0.1",
        "-p",
        String(port),
        "-P",
        String(port),
        "-w",
        "whitelist",
        "-d",
        dir,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForPort(port, child);
      const url = `http://127.0.0.1:${port}/announce`;
      const seed = { peerId: generatePeerId(), port: 40001 };
      const leech = { peerId: generatePeerId(), port: 40002 };
      const base = { infoHash: INFO_HASH, uploaded: 0, downloaded: 0 };

      // opentracker loads its whitelist in a background thread after it starts listening.
      const first = await retryWhileUnauthorized(() =>
        announce(url, { ...base, ...seed, left: 0, event: "started" })
      );
      assert.ok(first.interval > 0);
      const second = await announce(url, { ...base, ...leech, left: 1000, event: "started" });
      assert.equal(second.complete, 1);
      assert.equal(second.incomplete, 1);
      assert.ok(
        second.peers.some((p) => p.hostname === "127.0.0.1" && p.port === seed.port),
        JSON.stringify(second.peers),
      );

      const counts = await scrape(url, [INFO_HASH]);
      assert.deepEqual(counts.get(toHex(INFO_HASH)), { complete: 1, downloaded: 0, incomplete: 1 });

      await announce(url, { ...base, ...seed, left: 0, event: "stopped" });
      const after = await announce(url, { ...base, ...leech, left: 1000 });
      assert.equal(after.complete, 0);

      await assert.rejects(
        announce(url, { ...base, ...seed, infoHash: new Uint8Array(20).fill(1), left: 0 }),
        (e) =>
          e instanceof TrackerError && e.kind === "failure" && /not authorized/.test(e.message),
      );
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
