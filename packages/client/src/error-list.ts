/**
 * The errors found in one response, bounded (rule L2): a server controls how many there are (a response may offer
 * a hundred thousand bad resources) and a validation hook how long each is, so only the first ones that fit in the
 * NACK (`limits.maxErrorDetailBytes`) are kept and the rest counted ("… and N more"). No string grows with the
 * response: one 16 MiB response of empty resources once made a message past V8's longest string. Each error says
 * its reason first and the resource it is about after it, that name shortened ({@link shownName}): a name may be as
 * long as `limits.maxNameBytes` (16 KiB), and a few long names must not push the reasons out of the text kept.
 */
import { cutText } from './options.js';

/** Bytes left for the "; … and N more" that ends a cut list. */
const tailBytes = 40;
/** Bytes of the " [cut: N bytes, kept M]" note of a message cut. */
const cutNoteBytes = 48;

/** The most UTF-8 bytes of a resource name an error shows (its start and its end, see {@link shownName}). */
export const maxShownNameBytes = 96;
/** Bytes of the end of a long name kept by {@link shownName} (names often differ only at the end). */
const shownTailBytes = 32;

/**
 * A resource name as an error shows it, quoted: whole when it has at most {@link maxShownNameBytes} bytes, else its
 * first and last bytes around `…`, and its size (`"xdstp://a/b…/c7" (16384 bytes)`), cut on character boundaries.
 */
export function shownName(name: string): string {
  if (name.length * 3 <= maxShownNameBytes) return `"${name}"`;
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= maxShownNameBytes) return `"${name}"`;
  let head = maxShownNameBytes - shownTailBytes;
  while (head > 0 && (bytes[head]! & 0xc0) === 0x80) head--;
  let tail = bytes.length - shownTailBytes;
  while (tail < bytes.length && (bytes[tail]! & 0xc0) === 0x80) tail++;
  const start = bytes.subarray(0, head).toString('utf8');
  const end = bytes.subarray(tail).toString('utf8');
  return `"${start}…${end}" (${bytes.length} bytes)`;
}

/** One error as a NACK says it: the reason, then the resource it is about, when there is one, its name shortened. */
export function errorText(reason: string, name?: string): string {
  return name === undefined ? reason : `${reason} (resource ${shownName(name)})`;
}

/** The errors of one response: the first that fit in `maxBytes`, and how many more there were. */
export class ErrorList {
  /** The messages kept, in order, each cut to what was left. */
  readonly messages: string[] = [];
  /** How many errors were left out. */
  more = 0;
  #bytes = 0;
  readonly #maxBytes: number;

  /** A list that keeps messages up to `maxBytes` of text in all (`limits.maxErrorDetailBytes`). */
  constructor(maxBytes: number) {
    this.#maxBytes = Math.max(1, maxBytes - tailBytes);
  }

  /** Every error found, kept or not. */
  get count(): number {
    return this.messages.length + this.more;
  }

  /**
   * Adds one error, its reason first and then `name`, the resource it is about, shortened ({@link errorText}): kept
   * whole while it fits, else counted; the first is always kept, cut to fit when it is long (a validation hook's
   * reason may be as long as it likes: what is cut is then the end of the reason and the name).
   */
  push(reason: string, name?: string): void {
    const message = errorText(reason, name);
    const room = this.#maxBytes - this.#bytes;
    const bytes = message.length * 3 <= room ? message.length : Buffer.byteLength(message, 'utf8');
    if (bytes + 2 <= room) {
      this.messages.push(message);
      this.#bytes += bytes + 2;
    } else if (this.messages.length === 0) {
      this.messages.push(cutText(message, Math.max(1, room - cutNoteBytes)));
      this.#bytes = this.#maxBytes;
    } else this.more++;
  }

  /** The messages, `first` then the ones kept, joined, and the count left out. */
  text(first: readonly string[] = []): string {
    const all = [...first, ...this.messages].join('; ');
    return this.more === 0 ? all : `${all}; … and ${this.more} more`;
  }
}
