// Glob subscriptions (`prefix/*`, rule S9's extension used by xDS-TP style names) indexed so that finding the
// globs a resource name matches costs O(name length), not O(globs): three streams of 100,000 globs used to stall
// every push for seconds, on the event loop. A glob's prefix always ends with `/`, so it is a run of whole
// segments (`a/b/*` is [a, b]); the globs a name matches are those on the path of its leading segments in a trie
// of segments.

interface Node<T> {
  children: Map<string, Node<T>> | undefined;
  /** The values of the prefix that ends at this node. */
  values: Set<T> | undefined;
}

function newNode<T>(): Node<T> {
  return { children: undefined, values: undefined };
}

/** The segments of a glob prefix (`a/b/` is [a, b]); throws unless it ends with `/`. */
function segmentsOf(prefix: string): string[] {
  if (!prefix.endsWith('/')) throw new RangeError(`a glob prefix ends with "/": ${JSON.stringify(prefix)}`);
  return prefix.slice(0, -1).split('/');
}

/** Glob prefixes (`foo/` for `foo/*`), each with a set of values, found by the names they match. */
export class GlobIndex<T> {
  /**
   * Trie nodes visited by every index's lookups since the process started: a count of work for tests and
   * benchmarks (one lookup visits at most one node per segment of the name).
   */
  static visits = 0;
  readonly #root: Node<T> = newNode();
  #size = 0;

  /** The number of (prefix, value) pairs. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` under `prefix`; false when it was there. */
  add(prefix: string, value: T): boolean {
    let node = this.#root;
    for (const segment of segmentsOf(prefix)) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.values ??= new Set();
    if (node.values.has(value)) return false;
    node.values.add(value);
    this.#size++;
    return true;
  }

  /** Removes `value` from under `prefix` (and the nodes left empty); false when it was not there. */
  delete(prefix: string, value: T): boolean {
    const path: [Node<T>, string][] = [];
    let node = this.#root;
    for (const segment of segmentsOf(prefix)) {
      const child = node.children?.get(segment);
      if (child === undefined) return false;
      path.push([node, segment]);
      node = child;
    }
    if (node.values?.delete(value) !== true) return false;
    this.#size--;
    if (node.values.size === 0) node.values = undefined;
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, segment] = path[i]!;
      const child = parent.children!.get(segment)!;
      if (child.values !== undefined || (child.children?.size ?? 0) > 0) break;
      parent.children!.delete(segment);
      if (parent.children!.size === 0) parent.children = undefined;
    }
    return true;
  }

  /** Calls `visit` with every value of every prefix that `name` starts with (O(name length) plus the calls). */
  forEachMatch(name: string, visit: (value: T) => void): void {
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = name.indexOf('/', start);
      if (slash < 0 || node.children === undefined) return;
      const child = node.children.get(name.slice(start, slash));
      GlobIndex.visits++;
      if (child === undefined) return;
      if (child.values !== undefined) for (const value of child.values) visit(value);
      node = child;
      start = slash + 1;
    }
  }

  /** True when `name` starts with some prefix of the index. */
  matches(name: string): boolean {
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = name.indexOf('/', start);
      if (slash < 0 || node.children === undefined) return false;
      const child = node.children.get(name.slice(start, slash));
      GlobIndex.visits++;
      if (child === undefined) return false;
      if (child.values !== undefined) return true;
      node = child;
      start = slash + 1;
    }
  }
}

/** A watch's glob prefixes: a set (for its subscription) with an index (for the names it wants). */
export class GlobPrefixes implements Iterable<string> {
  // Both made on the first glob: most watches never subscribe to one, and an empty set and index per watch (four
  // types per stream) were a good part of an idle client's memory (bench scenario 4).
  #set: Set<string> | undefined;
  #index: GlobIndex<string> | undefined;

  /** The prefixes, read-only. */
  get set(): ReadonlySet<string> {
    return this.#set ?? noPrefixes;
  }

  get size(): number {
    return this.#set?.size ?? 0;
  }

  has(prefix: string): boolean {
    return this.#set?.has(prefix) ?? false;
  }

  add(prefix: string): void {
    this.#set ??= new Set();
    this.#index ??= new GlobIndex();
    if (this.#set.has(prefix)) return;
    this.#set.add(prefix);
    this.#index.add(prefix, prefix);
  }

  delete(prefix: string): boolean {
    if (this.#set?.delete(prefix) !== true) return false;
    this.#index?.delete(prefix, prefix);
    return true;
  }

  clear(): void {
    this.#set = undefined;
    this.#index = undefined;
  }

  /** True when `name` starts with one of the prefixes (O(name length)). */
  matches(name: string): boolean {
    return this.#index !== undefined && this.#set!.size > 0 && this.#index.matches(name);
  }

  [Symbol.iterator](): Iterator<string> {
    return (this.#set ?? noPrefixes)[Symbol.iterator]();
  }
}

/** What an empty {@link GlobPrefixes} shows: never changed. */
const noPrefixes: ReadonlySet<string> = new Set<string>();
