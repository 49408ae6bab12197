/**
 * One `watch()` of an {@link XdsClient}: its watcher in the type's state, and the handle that cancels it, replaces
 * its names, adds and drops a few of them, or turns its wildcard on and off, each in O(the change) however many
 * names it watches (rule L2). Each change is counted into the type's subscription, sent as one request, and the
 * resources the client already holds of newly watched names are handed to the watch at once.
 */
import type { XdsResource } from './resource.js';
import type { TypeState, Watcher, WatchUpdate } from './type-state.js';

/** What `watch()` returns: call it to cancel the watch; the methods change what it watches. */
export interface WatchHandle {
  /** Cancels the watch; the names no other watch wants are unsubscribed and forgotten. */
  (): void;
  /** True while the watch wants every resource of the type (`'*'`, or {@link setWildcard}`(true)`). */
  readonly wildcard: boolean;
  /**
   * Replaces the watched names (or `'*'`: the wildcard and no names), sending one subscription change: O(old names +
   * new names).
   */
  setNames(names: Iterable<string> | '*'): void;
  /**
   * Adds and drops names of a watch, sending one subscription change: O(the change), however many names the watch
   * holds (delta sends just the change; SotW sends the whole subscription, as it must). On a wildcard watch the names
   * are kept beside the wildcard (`["*", "A"]`, rules S9, D7) and count once it is turned off. Returns the names the
   * client forgot: held, and wanted by no watch any more.
   */
  change(added: Iterable<string>, removed: Iterable<string>): readonly string[];
  /**
   * Turns the watch's wildcard on or off, keeping its names, sending one subscription change (delta: `"*"` in
   * `resource_names_subscribe` or `_unsubscribe`, rule D7; SotW: the whole subscription). O(1) to turn on for the
   * type's only watch (a relay's), O(resources held) when other watches share the type (what they hold is handed
   * over); O(the resources forgotten) to turn off, however many the client holds. Returns the names the client forgot:
   * held only under the wildcard.
   */
  setWildcard(on: boolean): readonly string[];
}

/** What a watch needs of its client. */
export interface WatchHost {
  /** Tells the server the type's subscription changed (or connects, before any stream). */
  subscriptionChanged(type: TypeState): void;
  /** Hands the watch, asynchronously, `held`: resources it now wants that the client already holds. */
  handOver(type: TypeState, watcher: Watcher, held: ReadonlyMap<string, XdsResource>): void;
}

/** A watcher as its handle changes it. */
interface OwnWatcher extends Watcher {
  readonly names: Set<string>;
  wildcard: boolean;
}

/** Adds a watch of `names` (or `'*'`) to `state` and returns its handle. */
export function openWatch(
  state: TypeState,
  names: Iterable<string> | '*',
  listener: (update: WatchUpdate) => void,
  host: WatchHost,
): WatchHandle {
  // The watcher's own set (a copy of the caller's names): change() edits it in place.
  const make = (next: Iterable<string> | '*'): OwnWatcher =>
    next === '*'
      ? { names: new Set(), wildcard: true, listener }
      : { names: new Set(next), wildcard: false, listener };
  let watcher = make(names);
  const attach = () => {
    state.watchers.add(watcher);
    state.count(watcher.names, 1);
    if (watcher.wildcard) state.countWildcard(1);
    host.subscriptionChanged(state);
    host.handOver(state, watcher, state.viewOf(watcher));
  };
  const detach = (): boolean => {
    if (!state.watchers.delete(watcher)) return false;
    state.count(watcher.names, -1);
    if (watcher.wildcard) state.countWildcard(-1);
    return true;
  };
  attach();
  const handle = (() => {
    if (!detach()) return;
    host.subscriptionChanged(state);
    state.forgetUnwanted();
  }) as WatchHandle;
  Object.defineProperty(handle, 'wildcard', { get: () => watcher.wildcard });
  handle.setNames = (next) => {
    if (!detach()) return;
    watcher = make(next);
    attach();
    state.forgetUnwanted();
  };
  handle.change = (added, removed) => {
    if (!state.watchers.has(watcher)) return [];
    const { names } = watcher;
    const gained = new Map<string, XdsResource>();
    const dropped: string[] = [];
    for (const name of removed)
      if (names.delete(name)) {
        dropped.push(name);
        state.count([name], -1);
      }
    let changed = dropped.length > 0;
    for (const name of added)
      if (!names.has(name)) {
        names.add(name);
        changed = true;
        state.count([name], 1);
        // A wildcard watch already has what the client holds.
        const resource = watcher.wildcard ? undefined : state.held.get(name);
        if (resource !== undefined) gained.set(name, resource);
      }
    if (!changed) return [];
    host.subscriptionChanged(state);
    const forgotten = state.forgetUnwantedOf(dropped);
    host.handOver(state, watcher, gained);
    return forgotten;
  };
  handle.setWildcard = (on) => {
    if (!state.watchers.has(watcher) || watcher.wildcard === on) return [];
    watcher.wildcard = on;
    state.countWildcard(on ? 1 : -1);
    host.subscriptionChanged(state);
    if (!on) return state.forgetUnwanted();
    // Without a wildcard the client holds only names some watch wants: the type's only watch already has them all.
    if (state.watchers.size > 1) {
      const gained = new Map<string, XdsResource>();
      for (const [name, resource] of state.held) if (!watcher.names.has(name)) gained.set(name, resource);
      host.handOver(state, watcher, gained);
    }
    return [];
  };
  return handle;
}
