import type { EncodedResource } from './encoded-resource.js';

/** What an absent overlay reads as: never changed. */
const noOverlay: ReadonlyMap<string, string | null> = new Map();

/**
 * Name -> version of what one stream holds, stored as a difference from a shared map of a snapshot's resources
 * (optionally restricted to a shared set of names: a subscription): a stream that holds a snapshot's type as it is,
 * or the subscribed part of it, costs two references, not one map entry per resource. This is what keeps
 * per-client memory flat when thousands of clients hold the same snapshot.
 */
export class HeldVersions {
  #base: ReadonlyMap<string, EncodedResource> | undefined;
  /** When set, only these names of the base are held. */
  #only: ReadonlySet<string> | undefined;
  /**
   * Differences from the base: a version, or null for a base name that is not held. Made on the first difference:
   * a stream that holds a snapshot as it is (the common case, and a new HeldVersions on every push) holds no map.
   */
  #overlay: Map<string, string | null> | undefined;
  /** compact() does nothing until the overlay is larger than this (raised when compacting did not help). */
  #compactAbove = 0;

  /** Holds exactly the given resources; with `only`, exactly those of them whose names it has. */
  static of(entries: ReadonlyMap<string, EncodedResource>, only?: ReadonlySet<string>): HeldVersions {
    const held = new HeldVersions();
    held.#base = entries;
    held.#only = only;
    return held;
  }

  /** The base when exactly the base is held (no restriction, no difference); undefined otherwise. */
  get pureBase(): ReadonlyMap<string, EncodedResource> | undefined {
    return this.#only === undefined && this.ownSize === 0 ? this.#base : undefined;
  }

  /** The base when exactly the base's resources named in `only` are held (no difference); undefined otherwise. */
  restrictedBase(only: ReadonlySet<string>): ReadonlyMap<string, EncodedResource> | undefined {
    return this.#only === only && this.ownSize === 0 ? this.#base : undefined;
  }

  /** True when nothing is held. */
  get empty(): boolean {
    return this.keys().next().done === true;
  }

  #inBase(name: string): EncodedResource | undefined {
    if (this.#only !== undefined && !this.#only.has(name)) return undefined;
    return this.#base?.get(name);
  }

  /** The overlay, made if there is none yet. */
  #own(): Map<string, string | null> {
    this.#overlay ??= new Map();
    return this.#overlay;
  }

  /** The version held of a name, if any. */
  get(name: string): string | undefined {
    const own = this.#overlay?.get(name);
    if (own !== undefined) return own ?? undefined;
    return this.#inBase(name)?.version;
  }

  /** Records that the name is held at a version. */
  set(name: string, version: string): void {
    if (this.#inBase(name)?.version === version) this.#overlay?.delete(name);
    else this.#own().set(name, version);
  }

  /** Forgets a name; true when it was held. */
  delete(name: string): boolean {
    const held = this.get(name) !== undefined;
    if (this.#inBase(name) !== undefined) this.#own().set(name, null);
    else this.#overlay?.delete(name);
    return held;
  }

  /** The names held. */
  *keys(): IterableIterator<string> {
    const overlay = this.#overlay ?? noOverlay;
    for (const [name, version] of overlay) if (version !== null) yield name;
    const base = this.#base;
    if (base === undefined) return;
    const only = this.#only;
    if (only === undefined) {
      for (const name of base.keys()) if (!overlay.has(name)) yield name;
      return;
    }
    for (const name of only) if (base.has(name) && !overlay.has(name)) yield name;
  }

  /** The (name, version) pairs held. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of this.keys()) yield [name, this.get(name)!];
  }

  /** How many entries this stream keeps for itself (the shared base not counted). */
  get ownSize(): number {
    return this.#overlay?.size ?? 0;
  }

  /**
   * Re-expresses the held versions as a difference from `entries` (a snapshot's current resources, restricted to
   * the same names as now) when that is much smaller than what is kept now. Cheap to call after every response:
   * it only works when the overlay grew.
   */
  compact(entries: ReadonlyMap<string, EncodedResource>): void {
    const size = this.ownSize;
    if (entries === this.#base || size <= 16 + (this.#base?.size ?? 0) / 8 || size <= this.#compactAbove)
      return;
    const only = this.#only;
    const inNext = (name: string) => (only === undefined || only.has(name) ? entries.get(name) : undefined);
    const next = new Map<string, string | null>();
    let held = 0;
    for (const [name, version] of this.entries()) {
      held++;
      if (inNext(name)?.version !== version) next.set(name, version);
    }
    for (const name of only ?? entries.keys())
      if (inNext(name) !== undefined && this.get(name) === undefined) next.set(name, null);
    if (next.size >= held) {
      // Not worth it against this snapshot: try again when the overlay has doubled, not on every response.
      this.#compactAbove = size * 2;
      return;
    }
    this.#base = entries;
    this.#overlay = next.size > 0 ? next : undefined;
    this.#compactAbove = 0;
  }
}
