/**
 * Reading a registry server's JSON response with a bound on its bytes (`maxRegistryResponseBytes`): a registry is
 * a server outside this process, and `response.json()` would hold any body it sends (a 400 MiB body took 1.9 GB).
 * The body is read chunk by chunk and the read is cancelled as soon as it goes past the limit. Reads running at once
 * can share a {@link ByteBudget} (`maxRegistryBytesInFlight`): many bounded bodies are not bounded together (16
 * endless Consul health answers of 50 MiB each took `xds-server` from 173 to 993 MiB RSS).
 */

/** A registry's answer went past a {@link RegistryLimits} bound; the registry keeps its previous content. */
export class RegistryLimitError extends Error {
  override readonly name = 'RegistryLimitError';
}

/**
 * The bytes of response bodies held at once by the reads sharing it (one registry's), bounded by `limit`: a read
 * takes each chunk from it before holding the chunk and gives everything back when it ends, parsed or not.
 */
export class ByteBudget {
  #held = 0;
  #peak = 0;

  /**
   * @param limit the most bytes held at once
   * @param name the limit's name, for errors
   */
  constructor(
    readonly limit: number,
    readonly name = 'maxRegistryBytesInFlight',
  ) {}

  /** The bytes held now. */
  held(): number {
    return this.#held;
  }

  /** The most bytes held at once so far. */
  peak(): number {
    return this.#peak;
  }

  /** Takes `bytes`, or returns false (taking nothing) when that would go past the limit. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.limit) return false;
    this.#held += bytes;
    this.#peak = Math.max(this.#peak, this.#held);
    return true;
  }

  /** Gives back `bytes` taken before. */
  release(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }
}

/**
 * The JSON value of `response`'s body, read up to `maxBytes` (by `Content-Length` first, then as it streams), each
 * chunk taken from `budget` (when given) while the body is held.
 * @throws RegistryLimitError naming `what` and the limit when the body is larger, or when the budget has no room
 *   for it; a SyntaxError when it is not JSON
 */
export async function readJsonBody(
  response: Response,
  maxBytes: number,
  what: string,
  budget?: ByteBudget,
): Promise<unknown> {
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
  let taken = 0;
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
        if (budget !== undefined) {
          if (!budget.take(value.byteLength)) {
            await reader.cancel().catch(() => {});
            throw new RegistryLimitError(
              `${what}: the response bodies being read would hold more than ${budget.limit} bytes at once, the limit (${budget.name}); this one was cancelled after ${total} bytes`,
            );
          }
          taken += value.byteLength;
        }
        chunks.push(value);
      }
    }
    return JSON.parse(new TextDecoder().decode(Buffer.concat(chunks, total)));
  } finally {
    budget?.release(taken);
  }
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
