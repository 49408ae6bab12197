/**
 * Regexes in a model are checked with the engine the clients use (rule L3 of the protocol notes). Envoy and gRPC
 * compile `safe_regex` with RE2; JavaScript's engine accepts more (lookaround, backreferences, possessive
 * quantifiers), so a model checked with `new RegExp` could be served and then NACKed, whole route configuration and
 * all, by every client. `re2js` is a port of RE2: it accepts what RE2 accepts and matches in linear time.
 */
import { RE2JS } from 're2js';

/** The longest regex a model may hold, in UTF-8 bytes. RE2 clients bound a regex's program size too. */
export const maxModelRegexBytes = 4096;

/** Hints for what people most often write that RE2 lacks, keyed by a test on the pattern. */
const hints: readonly { readonly test: RegExp; readonly hint: string }[] = [
  { test: /\(\?<?[=!]/, hint: 'RE2 has no lookahead or lookbehind' },
  { test: /\\[1-9]|\\k</, hint: 'RE2 has no backreferences' },
  { test: /[*+?}][+]/, hint: 'RE2 has no possessive quantifiers' },
  { test: /\(\?>/, hint: 'RE2 has no atomic groups' },
];

/**
 * What is wrong with a regex for RE2 (as Envoy and gRPC clients compile it), for people; undefined when RE2
 * accepts it. The message names the construct and says what clients would do.
 */
export function re2Problem(pattern: string): string | undefined {
  const bytes = Buffer.byteLength(pattern, 'utf8');
  if (bytes > maxModelRegexBytes) {
    return `the regex is ${bytes} bytes; the limit is ${maxModelRegexBytes}`;
  }
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    const hint = hints.find((h) => h.test.test(pattern))?.hint;
    return (
      `${JSON.stringify(pattern)} is not an RE2 regex (${reason})` +
      `${hint === undefined ? '' : `: ${hint}`}; Envoy and gRPC clients use RE2 and would reject the whole route ` +
      'configuration'
    );
  }
}
