import type { EncodedResource } from './encoded-resource.js';

/**
 * Name -> version of what one stream holds, stored as a difference from a shared map of a snapshot's resources:
 * a stream that holds a snapshot's type as it is costs one reference, not one map entry per resource. This is
 * what keeps per-client memory flat when thousands of clients hold the same snapshot.
 */
export class HeldVersions {
  #base: ReadonlyMap<string, EncodedResource> | undefined;
  /** Differences from the base: a version, or null for a base name that is not held. */
  #overlay = new Map<string, string | null>();
  /** compact() does nothing until the overlay is larger than this (raised when compacting did not help). */
  #compactAbove = 0;

  /** Holds exactly the given resources. */
  static of(entries: ReadonlyMap<string, EncodedResource>): HeldVersions {
    const held = new HeldVersions();
    held.#base = entries;
    return held;
  }

  /** The version held of a name, if any. */
  get(name: string): string | undefined {
    const own = this.#overlay.get(name);
    if (own !== undefined) return own ?? undefined;
    return this.#base?.get(name)?.version;
  }

  /** Records that the name is held at a version. */
  set(name: string, version: string): void {
    if (this.#base?.get(name)?.version === version) this.#overlay.delete(name);
    else this.#overlay.set(name, version);
  }

  /** Forgets a name; true when it was held. */
  delete(name: string): boolean {
    const held = this.get(name) !== undefined;
    if (this.#base?.has(name)) this.#overlay.set(name, null);
    else this.#overlay.delete(name);
    return held;
  }

  /** The names held. */
  *keys(): IterableIterator<string> {
    for (const [name, version] of this.#overlay) if (version !== null) yield name;
    if (this.#base === undefined) return;
    for (const name of this.#base.keys()) if (!this.#overlay.has(name)) yield name;
  }

  /** The (name, version) pairs held. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of this.keys()) yield [name, this.get(name)!];
  }

  /** How many entries this stream keeps for itself (the shared base not counted). */
  get ownSize(): number {
    return this.#overlay.size;
  }

  /**
   * Re-expresses the held versions as a difference from `entries` (a snapshot's current resources) when that is
   * much smaller than what is kept now. Cheap to call after every response: it only works when the overlay grew.
   */
  compact(entries: ReadonlyMap<string, EncodedResource>): void {
    const size = this.#overlay.size;
    if (entries === this.#base || size <= 16 + (this.#base?.size ?? 0) / 8 || size <= this.#compactAbove)
      return;
    const next = new Map<string, string | null>();
    let held = 0;
    for (const [name, version] of this.entries()) {
      held++;
      if (entries.get(name)?.version !== version) next.set(name, version);
    }
    for (const name of entries.keys()) if (this.get(name) === undefined) next.set(name, null);
    if (next.size >= held) {
      // Not worth it against this snapshot: try again when the overlay has doubled, not on every response.
      this.#compactAbove = size * 2;
      return;
    }
    this.#base = entries;
    this.#overlay = next;
    this.#compactAbove = 0;
  }
}
