import { decodeNames } from './names-run.js';

// The encoded `resource_names` a SotW request carries when the decoder (sotw-request.ts) left them encoded, and the
// `resourceNames` accessor that decodes them on first read. An Envoy repeats its whole subscription in every ACK,
// 10,000 ACKs per push (bench scenario 1): what each request costs here is paid 10,000 times (issue 15). So the
// request holds its names itself, in two private fields (no WeakMap entry to make and to sweep), and every such
// request shares one getter and one setter (no closures, no property descriptor per request). The accessor is
// added to a request that has no `resourceNames` yet, so V8 keeps one shape for all of them (redefining an existing
// property that is not the last one turns an object into a slow dictionary).

/** What the scan learnt of a request's `resource_names`, for the limits of rule L2, without decoding a name. */
export interface NamesSummary {
  /** The number of names. */
  readonly count: number;
  /** The number of glob names (`prefix/*`). */
  readonly globs: number;
  /** The index of the longest name (the first of them). */
  readonly longest: number;
  /** Its length in UTF-8 bytes. */
  readonly longestBytes: number;
}

/** A request's names left encoded: their bytes and what the scan found. */
export interface KeptNames {
  /** The run of `resource_names` fields, as encoded. */
  readonly bytes: Buffer;
  readonly summary: NamesSummary;
  /** True when `bytes` is a remembered run (known-runs.ts), the same buffer for every request that repeats it. */
  readonly shared: boolean;
}

/**
 * A base whose constructor returns the object it is given instead of a new one: a subclass's private fields are
 * then added to that object (the language defines them on whatever `super()` returned).
 */
class Carrier {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: returning the target is what puts the fields on it.
    return target;
  }
}

/** The private fields a request with encoded names carries. */
class NamesOf extends Carrier {
  /** The encoded names; undefined once the names were replaced (the bytes no longer say what they are). */
  #kept: KeptNames | undefined;
  /** The names, once decoded or set. */
  #names: string[] | undefined;

  private constructor(request: object, kept: KeptNames) {
    super(request);
    this.#kept = kept;
    this.#names = undefined;
  }

  /** Gives `request` the fields. */
  static attach(request: object, kept: KeptNames): void {
    new NamesOf(request, kept);
  }

  /** The encoded names of a request, if it holds them. */
  static kept(request: object): KeptNames | undefined {
    return #kept in request ? (request as NamesOf).#kept : undefined;
  }

  /** The names of a request that has the fields, decoded on first read. */
  static read(request: NamesOf): string[] {
    if (request.#names === undefined) {
      const kept = request.#kept;
      request.#names = kept === undefined ? [] : decodeNames(kept.bytes);
    }
    return request.#names;
  }

  /** Replaces the names of a request that has the fields; its encoded names are forgotten. */
  static write(request: NamesOf, names: string[]): void {
    request.#kept = undefined;
    request.#names = names;
  }
}

/** The accessor every request with encoded names shares (one getter and one setter for all). */
const resourceNames: PropertyDescriptor = Object.freeze({
  enumerable: true,
  configurable: true,
  get(this: NamesOf): string[] {
    return NamesOf.read(this);
  },
  set(this: NamesOf, names: string[]): void {
    NamesOf.write(this, names);
  },
});

/**
 * Gives a decoded request without `resourceNames` the names `kept` encodes: an enumerable `resourceNames` that
 * decodes them on first read (and may be set, as any message field), and the bytes for {@link keptNames}. A
 * change made in place to the array read (rather than by setting the field) is not seen by {@link keptNames}.
 */
export function keepNames(request: object, kept: KeptNames): void {
  Object.defineProperty(request, 'resourceNames', resourceNames);
  NamesOf.attach(request, kept);
}

/** The encoded names of a request decoded with its names left encoded, unless they were replaced since. */
export function keptNames(request: object): KeptNames | undefined {
  return NamesOf.kept(request);
}
