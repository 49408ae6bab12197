/**
 * What a change costs, counted rather than timed (rules X4, L2: a busy machine changes the time, not the count): the
 * writes to Maps and Sets (and, if asked, the objects frozen) made while a synchronous piece of work runs. Shared by
 * the tests of `@xds/client` and `@xds/relay` and the relay's wildcard bench.
 */

/** Options of {@link countWrites}. */
export interface CountWritesOptions {
  /** Count `Object.freeze` calls too (a frozen copy is a write of its own); default false. */
  readonly freezes?: boolean;
}

/**
 * Runs `work` synchronously and returns how many times it called `Map.prototype.set` / `delete`,
 * `Set.prototype.add` / `delete` (and `Object.freeze` with `freezes`), on any Map or Set. The prototypes are patched
 * only while `work` runs and are restored even when it throws.
 */
export function countWrites(work: () => void, options: CountWritesOptions = {}): number {
  const saved = {
    mapSet: Map.prototype.set,
    mapDelete: Map.prototype.delete,
    setAdd: Set.prototype.add,
    setDelete: Set.prototype.delete,
    freeze: Object.freeze,
  };
  let writes = 0;
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    writes++;
    return saved.mapSet.call(this, key, value);
  };
  Map.prototype.delete = function (this: Map<unknown, unknown>, key: unknown) {
    writes++;
    return saved.mapDelete.call(this, key);
  };
  Set.prototype.add = function (this: Set<unknown>, value: unknown) {
    writes++;
    return saved.setAdd.call(this, value);
  };
  Set.prototype.delete = function (this: Set<unknown>, value: unknown) {
    writes++;
    return saved.setDelete.call(this, value);
  };
  if (options.freezes === true)
    Object.freeze = <T>(value: T): Readonly<T> => {
      writes++;
      return saved.freeze(value);
    };
  try {
    work();
  } finally {
    Map.prototype.set = saved.mapSet;
    Map.prototype.delete = saved.mapDelete;
    Set.prototype.add = saved.setAdd;
    Set.prototype.delete = saved.setDelete;
    Object.freeze = saved.freeze;
  }
  return writes;
}
