/**
 * Reading a registry server's JSON response with a bound on its bytes (`maxRegistryResponseBytes`): a registry is
 * a server outside this process, and `response.json()` would hold any body it sends (a 400 MiB body took 1.9 GB).
 * The body is read chunk by chunk and the read is cancelled as soon as it goes past the limit. Reads running at once
 * can share a {@link ByteBudget} (`maxRegistryBytesInFlight`): many bounded bodies are not bounded together (16
 * endless Consul health answers of 50 MiB each took `xds-server` from 173 to 993 MiB RSS). The budget keeps a part
 * for small reads, so big answers filling it never refuse a small service's answer.
 */

/** A registry's answer went past a {@link RegistryLimits} bound; the registry keeps its previous content. */
export class RegistryLimitError extends Error {
  override readonly name = 'RegistryLimitError';
}

/**
 * The bytes of response bodies held at once by the reads sharing it (one registry's), bounded by `limit`, and fair to
 * small reads: a read takes each chunk through its {@link BudgetRead} before holding the chunk and gives everything
 * back when it ends, parsed or not. A read that has held more than `smallReadBytes` (1/64 of the limit) is a large
 * one, and large reads together hold at most `limit - reserve`: the `reserve` (a quarter of the limit) is left to
 * reads that are still small, so big answers filling the budget never refuse a small one (rule L2: one registry
 * service must not starve another). A small read is refused only when other small reads hold the reserve as well.
 */
export class ByteBudget {
  #held = 0;
  #large = 0;
  #peak = 0;
  /** The bytes only reads still under `smallReadBytes` may take. */
  readonly reserve: number;
  /** The most bytes a read may hold and still count as small. */
  readonly smallReadBytes: number;

  /**
   * @param limit the most bytes held at once
   * @param name the limit's name, for errors
   */
  constructor(
    readonly limit: number,
    readonly name = 'maxRegistryBytesInFlight',
  ) {
    this.reserve = Math.floor(limit / 4);
    this.smallReadBytes = Math.max(1, Math.floor(limit / 64));
  }

  /** The bytes held now. */
  held(): number {
    return this.#held;
  }

  /** The bytes held now by large reads (at most `limit - reserve`). */
  largeHeld(): number {
    return this.#large;
  }

  /** The most bytes held at once so far. */
  peak(): number {
    return this.#peak;
  }

  /** A read's share of the budget: the read takes its chunks through it and releases it when it ends. */
  read(): BudgetRead {
    let held = 0;
    let large = false;
    return {
      held: () => held,
      take: (bytes) => {
        if (this.#held + bytes > this.limit) return false;
        const next = held + bytes;
        // a read that becomes large moves everything it holds to the large part
        const addLarge = large ? bytes : next > this.smallReadBytes ? next : 0;
        if (addLarge > 0 && this.#large + addLarge > this.limit - this.reserve) return false;
        this.#large += addLarge;
        large ||= addLarge > 0;
        this.#held += bytes;
        held = next;
        this.#peak = Math.max(this.#peak, this.#held);
        return true;
      },
      refusal: (bytes) =>
        held + bytes > this.smallReadBytes
          ? `the response bodies of more than ${this.smallReadBytes} bytes being read would hold more than ${this.limit - this.reserve} bytes at once: the rest of the limit of ${this.limit} (${this.name}) is kept for smaller ones`
          : `the response bodies being read would hold more than ${this.limit} bytes at once, the limit (${this.name})`,
      release: () => {
        this.#held = Math.max(0, this.#held - held);
        if (large) this.#large = Math.max(0, this.#large - held);
        held = 0;
        large = false;
      },
    };
  }
}

/** One read's share of a {@link ByteBudget}. */
export interface BudgetRead {
  /** The bytes this read holds. */
  held(): number;
  /** Takes `bytes` more for this read, or returns false (taking nothing) when the budget has no room for them. */
  take(bytes: number): boolean;
  /** Why `take(bytes)` was refused, naming the limit. */
  refusal(bytes: number): string;
  /** Gives back everything this read holds. */
  release(): void;
}

/**
 * The JSON value of `response`'s body, read up to `maxBytes` (see {@link readBody}), parsed on the event loop: for
 * small answers; an adapter parses large ones with its `BodyParser`, off the event loop.
 * @throws RegistryLimitError naming `what` and the limit when the body is larger, or when the budget has no room
 *   for it; a SyntaxError when it is not JSON
 */
export function readJsonBody(
  response: Response,
  maxBytes: number,
  what: string,
  budget?: ByteBudget,
): Promise<unknown> {
  return readBody(response, maxBytes, what, budget, async (bytes) =>
    JSON.parse(new TextDecoder().decode(bytes)),
  );
}

/**
 * Reads `response`'s body up to `maxBytes` (by `Content-Length` first, then as it streams), each chunk taken from
 * `budget` (when given), and hands it to `use` (in a buffer of its own, which `use` may transfer); the budget holds
 * the body's bytes until `use` settles.
 * @throws RegistryLimitError naming `what` and the limit when the body is larger, or when the budget has no room
 *   for it; what `use` throws
 */
export async function readBody<T>(
  response: Response,
  maxBytes: number,
  what: string,
  budget: ByteBudget | undefined,
  use: (bytes: Uint8Array) => Promise<T>,
): Promise<T> {
  const tooLarge = (bytes: number | string): RegistryLimitError =>
    new RegistryLimitError(
      `${what}: the response body is ${bytes} bytes, over the limit of ${maxBytes} (maxRegistryResponseBytes)`,
    );
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(declared);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const share = budget?.read();
  try {
    if (response.body !== null) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge(`more than ${maxBytes}`);
        }
        if (share !== undefined && !share.take(value.byteLength)) {
          const why = share.refusal(value.byteLength);
          await reader.cancel().catch(() => {});
          throw new RegistryLimitError(`${what}: ${why}; this one was cancelled after ${total} bytes`);
        }
        chunks.push(value);
      }
    }
    return await use(joined(chunks, total));
  } finally {
    share?.release();
  }
}

/** The chunks in one buffer of its own (never a slice of Node's shared pool: it may be transferred). */
export function joined(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * The start of an error response's body, for a message: at most `maxBytes` are read, then the read is cancelled,
 * so an error answer is as bounded as a good one (`response.text()` would hold any body a registry sends).
 */
export async function readErrorText(response: Response, maxBytes = 4096): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total).subarray(0, maxBytes));
}
