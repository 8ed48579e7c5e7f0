import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { decodeResume, resumePath } from "../../src/client/storage/resume.ts";
import { TorrentSession } from "../../src/client/session/session.ts";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { equals } from "../../src/util/bytes.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { Prng } from "../fuzz/prng.ts";
import { content, handTorrent, withTempDir } from "./helpers.ts";
import { within } from "./swarm.ts";

// `btx get` (a real process) SIGKILLed at random points of one download and restarted each
// time: the final files are byte-identical, what is fetched again stays within what can be
// in flight, and nothing is ever reported (progress lines, resume file) before it is on disk
// and verified.

const KILLS = Number(Deno.env.get("BTX_CRASH_KILLS") ?? "20");
const PIECE = 16 * 1024; // one block per piece: the in-flight window is the request pipeline
const DATA = content(12 * 1024 * 1024 + 1234, 4242);
const TORRENT = handTorrent("crash.bin", DATA, PIECE);
const META = parseMetainfo(TORRENT);
/** Our requests to one peer (its BEP 10 reqq, 250 for btx) plus the seeder's send buffer. */
const IN_FLIGHT_WINDOW = 250 * PIECE + 1024 * 1024;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Pieces of the output file that are present and match their hash. */
async function verifiedOnDisk(file: string): Promise<Set<number>> {
  const out = new Set<number>();
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch {
    return out;
  }
  for (let i = 0; i < META.pieceCount; i++) {
    const piece = bytes.subarray(i * PIECE, Math.min(META.length, (i + 1) * PIECE));
    const expected = META.pieces.subarray(i * 20, i * 20 + 20);
    if (
      piece.length === Math.min(PIECE, META.length - i * PIECE) && equals(sha1(piece), expected)
    ) {
      out.add(i);
    }
  }
  return out;
}

Deno.test(`btx get killed with SIGKILL ${KILLS} times and restarted: identical output, no early claims`, () =>
  withTempDir(async (root) => {
    const src = join(root, "src");
    await Deno.mkdir(src);
    await Deno.writeFile(join(src, META.name), DATA);
    const torrentFile = join(root, "crash.torrent");
    await Deno.writeFile(torrentFile, TORRENT);
    // The seeder runs in this process, paced so each run lasts long enough to be cut short.
    const client = Client.start({ port: 0, hostname: "127.0.0.1" });
    const seeder = await TorrentSession.start(client, META, {
      dir: src,
      seed: true,
      trackers: [],
      maxUploadRate: 8 * 1024 * 1024,
    });
    const out = join(root, "out");
    const file = join(out, META.name);
    const rng = new Prng(20261125);
    let lastExit = -1;
    let lastOut = "";
    let kills = 0;
    let progressLines = 0;
    try {
      for (let run = 0; run <= KILLS; run++) {
        const before = await verifiedOnDisk(file);
        const uploadedBefore = seeder.uploaded;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            MAIN,
            "get",
            torrentFile,
            "-o",
            out,
            "--port",
            "0",
            "--ip",
            "127.0.0.1",
            "--peer",
            `127.0.0.1:${client.port}`,
            "--json",
          ],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
        ]);
        if (run < KILLS) {
          // Kill once the seeder sent a random share of what is still missing.
          const missing = META.length - before.size * PIECE;
          const target = uploadedBefore + Math.floor(missing * (0.05 + 0.8 * rng.int(1000) / 1000));
          const exited = child.status.then(() => true);
          let done = false;
          exited.then(() => (done = true));
          await within(
            (async () => {
              while (!done && seeder.uploaded < target) await new Promise((r) => setTimeout(r, 2));
            })(),
            `run ${run} reaching its kill point`,
          ).catch(async (e) => {
            child.kill("SIGKILL");
            await child.status;
            throw e;
          });
          if (!done) {
            child.kill("SIGKILL");
            kills++;
          }
        }
        const status = await within(child.status, `run ${run} ending`).catch((e) => {
          child.kill("SIGKILL");
          throw e;
        });
        const [stdout, stderr] = await output;
        lastExit = status.code;
        lastOut = stdout + stderr;
        const after = await verifiedOnDisk(file);
        // Verified data is never lost to a kill.
        for (const i of before) assert.ok(after.has(i), `run ${run}: verified piece ${i} lost`);
        // Progress never claims more than what is verified on disk.
        const verifiedBytes = [...after].reduce(
          (n, i) => n + Math.min(PIECE, META.length - i * PIECE),
          0,
        );
        let claims = 0;
        for (const line of stdout.split("\n").filter((l) => l.startsWith("{"))) {
          const e = JSON.parse(line);
          // Progress lines say `done` bytes; the final report says `have` (checking is not a claim).
          const claimed = e.event === "complete"
            ? e.have
            : e.phase === "checking"
            ? undefined
            : e.done;
          if (typeof claimed !== "number") continue;
          claims++;
          assert.ok(
            claimed <= verifiedBytes,
            `run ${run} claimed ${claimed} > ${verifiedBytes} bytes`,
          );
        }
        progressLines += claims;
        // Nor does the resume file, if one was written.
        const resume = await Deno.readFile(resumePath(out, META.infoHash)).catch(() => undefined);
        const saved = resume && decodeResume(resume);
        if (saved) {
          for (let i = 0; i < META.pieceCount; i++) {
            const bit = (saved.bitfield[i >> 3]! >> (7 - (i & 7))) & 1;
            if (bit) assert.ok(after.has(i), `run ${run}: resume claims unverified piece ${i}`);
          }
        }
        if (status.signal === null) break; // finished before its kill point
      }
      assert.equal(lastExit, 0, lastOut);
      assert.match(lastOut, /"event":"complete"/);
      assert.ok(equals(await Deno.readFile(file), DATA), "final output differs");
      const refetched = seeder.uploaded - META.length;
      assert.ok(kills >= KILLS / 2, `only ${kills} kills happened`);
      assert.ok(
        refetched <= kills * IN_FLIGHT_WINDOW,
        `${refetched} bytes sent again over ${kills} kills (window ${IN_FLIGHT_WINDOW})`,
      );
      assert.ok(progressLines > 0, "no progress line was checked");
      console.log(
        `${kills} kills, ${progressLines} progress lines checked, ${refetched} bytes sent again (${
          (refetched / kills / 1024).toFixed(0)
        } KiB per kill)`,
      );
    } finally {
      await seeder.stop();
      await client.close();
    }
  }));
