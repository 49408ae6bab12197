// Text a client controls that the server keeps for display (error details, node ids in logs and status pages) is
// cut to a limit, and says so (rule L2: "What is kept for display is cut, and says so").

/**
 * Cuts text kept for display to `maxBytes` of UTF-8 (never inside a character) and says how much was cut:
 * `"…text… [cut: 16777216 bytes, kept 4096]"`. Text within the limit comes back unchanged.
 */
export function cutForDisplay(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const buffer = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Step back to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${buffer.subarray(0, end).toString('utf8')}… [cut: ${bytes} bytes, kept ${end}]`;
}
