import type { Message } from '@bufbuild/protobuf';
import { describeEnd, type StreamEnd } from './call.js';
import { shortTypeName } from './codec.js';
import type { ReceivedResponse } from './received.js';

/** What a {@link ResponseLog.waitFor} predicate sees beside the response. */
export interface WaitState {
  /**
   * The resources of the response's type that the client held right after it recorded (and, with `autoAck`,
   * answered) this response: keyed by name.
   */
  readonly resources: ReadonlyMap<string, Message>;
  /** The position of the response among the responses of its type, from 0. */
  readonly index: number;
}

/** Options of `next` and `waitFor`. */
export interface WaitOptions {
  /** How long to wait before rejecting; the client's `timeoutMs` by default. */
  readonly timeoutMs?: number;
}

/** A predicate over recorded responses. */
export type ResponsePredicate = (response: ReceivedResponse, state: WaitState) => boolean;

interface Entry {
  readonly response: ReceivedResponse;
  readonly state: WaitState;
}

interface Waiter {
  readonly typeUrl: string;
  /** True for `next()`, which consumes the response it returns; false for `waitFor()`. */
  readonly consumes: boolean;
  readonly matches: ResponsePredicate;
  readonly resolve: (response: ReceivedResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly what: string;
}

function describeResponse(r: ReceivedResponse): string {
  const answer = r.acked === undefined ? 'unanswered' : r.acked ? 'ACKed' : `NACKed (${r.nackMessage})`;
  const removed = r.removed.length > 0 ? `, removed [${r.removed.join(', ')}]` : '';
  return `{version ${JSON.stringify(r.versionInfo)}, nonce ${JSON.stringify(r.nonce)}, [${r.names.join(', ')}]${removed}, ${answer}}`;
}

/**
 * Every response the client received, in order, with the means to await them: `next()` (each response once)
 * and `waitFor()` (the first past or future response that matches). Waiting is driven by arrivals and a
 * deadline timer, never by polling.
 */
export class ResponseLog {
  readonly #all: Entry[] = [];
  readonly #byType = new Map<string, Entry[]>();
  readonly #cursor = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(response: ReceivedResponse) => void>();
  readonly #defaultTimeoutMs: number;
  readonly #endOf: (typeUrl: string) => StreamEnd | undefined;

  /**
   * @param defaultTimeoutMs - the deadline of `next` and `waitFor` when they are given none
   * @param endOf - how the stream serving a type ended, if it did (then waiting for that type fails at once)
   */
  constructor(defaultTimeoutMs: number, endOf: (typeUrl: string) => StreamEnd | undefined) {
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#endOf = endOf;
  }

  /** Every response, or those of one type, in the order received. */
  responses(typeUrl?: string): ReceivedResponse[] {
    const entries = typeUrl === undefined ? this.#all : (this.#byType.get(typeUrl) ?? []);
    return entries.map((e) => e.response);
  }

  /** Calls `listener` on every response from now on; returns a function that stops it. */
  onResponse(listener: (response: ReceivedResponse) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a response with the resources its type held after it, and wakes the waiters it satisfies. */
  add(response: ReceivedResponse, held: ReadonlyMap<string, Message>): void {
    const list = this.#byType.get(response.typeUrl) ?? [];
    this.#byType.set(response.typeUrl, list);
    const entry: Entry = { response, state: { resources: new Map(held), index: list.length } };
    list.push(entry);
    this.#all.push(entry);
    for (const waiter of [...this.#waiters]) {
      if (waiter.typeUrl !== response.typeUrl) continue;
      if (waiter.consumes) {
        const taken = this.#take(waiter.typeUrl);
        if (taken !== undefined) this.#settle(waiter, () => waiter.resolve(taken));
      } else {
        this.#offer(waiter, entry);
      }
    }
    for (const listener of [...this.#listeners]) listener(response);
  }

  /** Resolves with the next response of `typeUrl` not yet returned by `next`; see `XdsTestClient.next`. */
  next(typeUrl: string, options?: WaitOptions): Promise<ReceivedResponse> {
    const taken = this.#take(typeUrl);
    if (taken !== undefined) return Promise.resolve(taken);
    return this.#wait(typeUrl, true, () => true, `next(${shortTypeName(typeUrl)})`, options);
  }

  /** Resolves with the first response of `typeUrl`, past or future, that matches; see `XdsTestClient.waitFor`. */
  waitFor(typeUrl: string, predicate: ResponsePredicate, options?: WaitOptions): Promise<ReceivedResponse> {
    const what = `waitFor(${shortTypeName(typeUrl)})`;
    try {
      for (const entry of this.#byType.get(typeUrl) ?? []) {
        if (predicate(entry.response, entry.state)) return Promise.resolve(entry.response);
      }
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.#wait(typeUrl, false, predicate, what, options);
  }

  /** Fails the waiters of the types for which `served` is true: their stream ended. */
  streamEnded(end: StreamEnd, served: (typeUrl: string) => boolean): void {
    for (const waiter of [...this.#waiters]) {
      if (served(waiter.typeUrl)) this.#settle(waiter, () => waiter.reject(this.#endedError(waiter, end)));
    }
  }

  /** Fails every waiter with `reason` (the client closed). */
  rejectAll(reason: string): void {
    for (const waiter of [...this.#waiters]) {
      this.#settle(waiter, () => waiter.reject(new Error(`${waiter.what}: ${reason}`)));
    }
  }

  #take(typeUrl: string): ReceivedResponse | undefined {
    const list = this.#byType.get(typeUrl) ?? [];
    const cursor = this.#cursor.get(typeUrl) ?? 0;
    const entry = list[cursor];
    if (entry === undefined) return undefined;
    this.#cursor.set(typeUrl, cursor + 1);
    return entry.response;
  }

  #offer(waiter: Waiter, entry: Entry): void {
    let matched: boolean;
    try {
      matched = waiter.matches(entry.response, entry.state);
    } catch (e) {
      this.#settle(waiter, () => waiter.reject(e instanceof Error ? e : new Error(String(e))));
      return;
    }
    if (matched) this.#settle(waiter, () => waiter.resolve(entry.response));
  }

  #wait(
    typeUrl: string,
    consumes: boolean,
    matches: ResponsePredicate,
    what: string,
    options: WaitOptions | undefined,
  ): Promise<ReceivedResponse> {
    const timeoutMs = options?.timeoutMs ?? this.#defaultTimeoutMs;
    return new Promise<ReceivedResponse>((resolve, reject) => {
      const ended = this.#endOf(typeUrl);
      if (ended !== undefined) {
        reject(this.#endedError({ typeUrl, consumes, what }, ended));
        return;
      }
      const timer = setTimeout(() => {
        this.#settle(waiter, () => reject(new Error(this.#timeoutMessage(waiter, timeoutMs))));
      }, timeoutMs);
      const waiter: Waiter = { typeUrl, consumes, matches, resolve, reject, timer, what };
      this.#waiters.add(waiter);
    });
  }

  #settle(waiter: Waiter, action: () => void): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    action();
  }

  #endedError(waiter: Pick<Waiter, 'typeUrl' | 'consumes' | 'what'>, end: StreamEnd): Error {
    const short = shortTypeName(waiter.typeUrl);
    const goal = waiter.consumes ? `a new ${short} response` : `a matching ${short} response`;
    return new Error(
      `${waiter.what}: the stream ${end.path} ended with ${describeEnd(end)} before ${goal} arrived. ` +
        this.#summary(waiter),
    );
  }

  #timeoutMessage(waiter: Waiter, timeoutMs: number): string {
    const short = shortTypeName(waiter.typeUrl);
    const goal = waiter.consumes ? `no new ${short} response` : `no ${short} response matched`;
    return `${waiter.what}: ${goal} (${waiter.typeUrl}) within ${timeoutMs} ms. ${this.#summary(waiter)}`;
  }

  #summary(waiter: Pick<Waiter, 'typeUrl' | 'consumes'>): string {
    const short = shortTypeName(waiter.typeUrl);
    const own = this.responses(waiter.typeUrl);
    const parts: string[] = [];
    if (own.length === 0) {
      parts.push(`Received no ${short} response.`);
    } else {
      const shown = own.slice(-5).map(describeResponse).join(', ');
      const more = own.length > 5 ? `the last 5: ` : '';
      const consumed = waiter.consumes ? ', all already returned by next()' : '';
      parts.push(`Received ${own.length} ${short} response(s)${consumed}; ${more}${shown}.`);
    }
    const others = new Map<string, number>();
    for (const entry of this.#all) {
      const type = entry.response.typeUrl;
      if (type !== waiter.typeUrl) others.set(type, (others.get(type) ?? 0) + 1);
    }
    if (others.size > 0) {
      const list = [...others].map(([type, n]) => `${shortTypeName(type)} x${n}`).join(', ');
      parts.push(`Other types received: ${list}.`);
    }
    return parts.join(' ');
  }
}
