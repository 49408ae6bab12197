/**
 * Reading a registry server's JSON response with a bound on its bytes (`maxRegistryResponseBytes`): a registry is
 * a server outside this process, and `response.json()` would hold any body it sends (a 400 MiB body took 1.9 GB).
 * The body is read chunk by chunk and the read is cancelled as soon as it goes past the limit.
 */

/** A registry's answer went past a {@link RegistryLimits} bound; the registry keeps its previous content. */
export class RegistryLimitError extends Error {
  override readonly name = 'RegistryLimitError';
}

/**
 * The JSON value of `response`'s body, read up to `maxBytes` (by `Content-Length` first, then as it streams).
 * @throws RegistryLimitError naming `what` and the limit when the body is larger; a SyntaxError when it is not JSON
 */
export async function readJsonBody(response: Response, maxBytes: number, what: string): Promise<unknown> {
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
      chunks.push(value);
    }
  }
  return JSON.parse(new TextDecoder().decode(Buffer.concat(chunks, total)));
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
