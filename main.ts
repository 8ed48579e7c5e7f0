/**
 * btx: a BitTorrent client, seeder and tracker. `deno task btx --help`.
 * @module
 */
import { main, processIo } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args, processIo()));
}
