/**
 * The errors found in one response, bounded (rule L2): a server controls how many there are (a response may offer
 * a hundred thousand bad resources) and a validation hook how long each is, so only the first ones that fit in the
 * NACK (`limits.maxErrorDetailBytes`) are kept and the rest counted ("… and N more"). No string grows with the
 * response: one 16 MiB response of empty resources once made a message past V8's longest string.
 */
import { cutText } from './options.js';

/** Bytes left for the "; … and N more" that ends a cut list. */
const tailBytes = 40;
/** Bytes of the " [cut: N bytes, kept M]" note of a message cut. */
const cutNoteBytes = 48;

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
   * Adds one error: kept whole while it fits, else counted; the first is always kept, cut to fit when it is long
   * (a validation hook's message may be as long as it likes).
   */
  push(message: string): void {
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
