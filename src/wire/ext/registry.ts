/**
 * BEP 10 extension ids, both ways. Each side of a connection picks the id it wants to RECEIVE
 * each extension on and says so in its handshake's `m`; a later handshake may change or, with
 * id 0, disable one. So we keep two tables: ours (one per client, fixed) and the peer's (one
 * per connection, updated by every handshake it sends).
 * @module
 */
import type { ExtendedHandshake } from "./handshake.ts";

/** The extensions this client speaks, with the ids it receives them on (1, 2, ... in order). */
export class ExtensionRegistry {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];

  /** `names` are BEP 10 extension names such as `ut_metadata` (BEP 9) or `ut_pex` (BEP 11). */
  constructor(names: readonly string[] = []) {
    for (const name of names) {
      if (this.#ids.has(name)) throw new RangeError(`extension ${name} registered twice`);
      // Id 0 is the handshake itself; ids are one byte on the wire.
      if (this.#names.length === 255) throw new RangeError("more than 255 extensions");
      this.#names.push(name);
      this.#ids.set(name, this.#names.length);
    }
  }

  /** Our handshake's `m`: extension name → the id we receive it on. */
  get handshakeMap(): ReadonlyMap<string, number> {
    return this.#ids;
  }

  /** The extension an incoming extended message (id ≥ 1) is for; undefined for unknown ids. */
  nameOf(id: number): string | undefined {
    return id >= 1 ? this.#names[id - 1] : undefined;
  }
}

/** What one peer told us in its extended handshakes: the ids to SEND each extension on. */
export class PeerExtensions {
  readonly #ids = new Map<string, number>();

  /** Takes a (first or updating) handshake: new ids replace old ones, id 0 disables. */
  update(handshake: ExtendedHandshake): void {
    for (const [name, id] of handshake.m) {
      if (id === 0) this.#ids.delete(name);
      else this.#ids.set(name, id);
    }
  }

  /** The id to send `name` messages on, or undefined when the peer does not speak it. */
  idOf(name: string): number | undefined {
    return this.#ids.get(name);
  }

  /** Whether the peer speaks `name` now. */
  has(name: string): boolean {
    return this.#ids.has(name);
  }
}
