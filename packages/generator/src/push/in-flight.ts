// The publish under way per cache (rule L4's corollary: a publish that gives the event loop turns can be overtaken).
// A newer publish to the same cache, sync or async, supersedes the one under way: that one stops at its next pause
// and sets nothing, so no snapshot of an older model is ever set after a newer one, and the work an overtaken
// publish does is at most one slice.
import { Code, XdsError } from '@xds/api';

const inFlight = new WeakMap<object, AbortController>();

/** The reason an overtaken publish rejects with: an XdsError with code CANCELLED. */
export function supersededError(): XdsError {
  return new XdsError(Code.Cancelled, 'publish superseded: a newer model was published to the same cache');
}

/** Stops the publish under way to `cache`, if any (a newer one starts). */
export function supersede(cache: object): void {
  const controller = inFlight.get(cache);
  if (controller === undefined) return;
  inFlight.delete(cache);
  controller.abort(supersededError());
}

/** Registers a new publish to `cache`, superseding the one under way; `done()` unregisters it. */
export function begin(cache: object): { readonly signal: AbortSignal; done(): void } {
  supersede(cache);
  const controller = new AbortController();
  inFlight.set(cache, controller);
  return {
    signal: controller.signal,
    done() {
      if (inFlight.get(cache) === controller) inFlight.delete(cache);
    },
  };
}
