/**
 * One `watch()` of an {@link XdsClient}: its watcher in the type's state, and the handle that cancels it, replaces
 * its names, or adds and drops a few of them in O(the change) however many it watches (rule L2). Each change is
 * counted into the type's subscription, sent as one request, and the resources the client already holds of newly
 * watched names are handed to the watch at once.
 */
import { Code, XdsError } from '@xds/api';
import type { XdsResource } from './resource.js';
import type { TypeState, Watcher, WatchUpdate } from './type-state.js';

/** What `watch()` returns: call it to cancel the watch; `setNames` changes what it watches. */
export interface WatchHandle {
  /** Cancels the watch; the names no other watch wants are unsubscribed and forgotten. */
  (): void;
  /** Replaces the watched names (or `'*'`), sending one subscription change: O(old names + new names). */
  setNames(names: Iterable<string> | '*'): void;
  /**
   * Adds and drops names of a watch by names (not `'*'`), sending one subscription change: O(the change), however
   * many names the watch holds (delta sends just the change; SotW sends the whole subscription, as it must).
   * Throws an XdsError (FailedPrecondition) on a wildcard watch.
   */
  change(added: Iterable<string>, removed: Iterable<string>): void;
}

/** What a watch needs of its client. */
export interface WatchHost {
  /** Tells the server the type's subscription changed (or connects, before any stream). */
  subscriptionChanged(type: TypeState): void;
  /** Hands the watch, asynchronously, `held`: resources it now wants that the client already holds. */
  handOver(type: TypeState, watcher: Watcher, held: ReadonlyMap<string, XdsResource>): void;
}

/** Adds a watch of `names` (or `'*'`) to `state` and returns its handle. */
export function openWatch(
  state: TypeState,
  names: Iterable<string> | '*',
  listener: (update: WatchUpdate) => void,
  host: WatchHost,
): WatchHandle {
  // The watcher's own set: change() edits it in place (its copy of the caller's names).
  let own: Set<string> | '*' = names === '*' ? '*' : new Set(names);
  let watcher: Watcher = { names: own, listener };
  const attach = () => {
    watcher = { names: own, listener };
    state.watchers.add(watcher);
    state.count(own, 1);
    host.subscriptionChanged(state);
    host.handOver(state, watcher, state.viewOf(watcher));
  };
  const detach = (): boolean => {
    if (!state.watchers.delete(watcher)) return false;
    state.count(own, -1);
    return true;
  };
  attach();
  const handle = (() => {
    if (!detach()) return;
    host.subscriptionChanged(state);
    state.forgetUnwanted();
  }) as WatchHandle;
  handle.setNames = (next) => {
    if (!detach()) return;
    own = next === '*' ? '*' : new Set(next);
    attach();
    state.forgetUnwanted();
  };
  handle.change = (added, removed) => {
    if (!state.watchers.has(watcher)) return;
    const names = own;
    if (names === '*')
      throw new XdsError(Code.FailedPrecondition, 'XdsClient: change() on a wildcard watch; use setNames()');
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
        const resource = state.held.get(name);
        if (resource !== undefined) gained.set(name, resource);
      }
    if (!changed) return;
    host.subscriptionChanged(state);
    state.forgetUnwantedOf(dropped);
    host.handOver(state, watcher, gained);
  };
  return handle;
}
