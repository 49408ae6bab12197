/**
 * Waiting for what a test awaits without sleeping (the project's rule: no sleep as synchronisation): the next event
 * of an emitter that matches, every event from now on, or a condition polled with a deadline. Shared by the tests of
 * @xds/client, @xds/relay and others. TypeScript cannot read an eventemitter3 subclass's event map back from it, so
 * a package types the helpers once for the emitters its tests use:
 *
 * ```ts
 * export const nextEvent: NextEvent<[[Relay, RelayEvents], [XdsServer, XdsServerEvents]]> = waitForEvent;
 * ```
 */

/** An event map as eventemitter3 takes it: event name → argument list. */
export type EventMap = object;

/** Emitter types paired with their event maps. */
export type EmitterEvents = readonly (readonly [object, EventMap])[];

/** The event map of emitter `T` in `Pairs`. */
export type EventsOf<Pairs extends EmitterEvents, T> = Extract<Pairs[number], readonly [T, EventMap]>[1];

/** The first argument of event `K` in event map `E`. */
export type PayloadOf<E, K extends keyof E> = E[K] extends readonly [infer P, ...unknown[]] ? P : undefined;

/** {@link waitForEvent}, typed for the emitters of `Pairs`. */
export type NextEvent<Pairs extends EmitterEvents> = <
  T extends Pairs[number][0],
  K extends keyof EventsOf<Pairs, T> & string,
>(
  emitter: T,
  name: K,
  predicate?: (event: PayloadOf<EventsOf<Pairs, T>, K>) => boolean,
  timeoutMs?: number,
) => Promise<PayloadOf<EventsOf<Pairs, T>, K>>;

/** {@link collectEvents}, typed for the emitters of `Pairs`. */
export type Collect<Pairs extends EmitterEvents> = <
  T extends Pairs[number][0],
  K extends keyof EventsOf<Pairs, T> & string,
>(
  emitter: T,
  name: K,
) => PayloadOf<EventsOf<Pairs, T>, K>[];

/** What the helpers need of an emitter (eventemitter3's or Node's). */
interface Listenable {
  on(event: string, listener: (payload: never) => void): unknown;
  off(event: string, listener: (payload: never) => void): unknown;
}

/** How long {@link waitForEvent} and {@link until} wait by default (ms). */
export const defaultWaitMs = 15_000;

/** Resolves with the first event `name` whose payload matches `predicate`, or rejects after `timeoutMs`. */
export function waitForEvent(
  emitter: object,
  name: string,
  predicate: (event: never) => boolean = () => true,
  timeoutMs = defaultWaitMs,
): Promise<never> {
  const target = emitter as Listenable;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.off(name, listener);
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: never) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      target.off(name, listener);
      resolve(payload);
    };
    target.on(name, listener);
  });
}

/** Collects the payload of every event `name` from now on. */
export function collectEvents(emitter: object, name: string): never[] {
  const out: never[] = [];
  (emitter as Listenable).on(name, (payload) => out.push(payload));
  return out;
}

/** Polls `check` every 10 ms until it returns true, or rejects after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => boolean, timeoutMs = defaultWaitMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
