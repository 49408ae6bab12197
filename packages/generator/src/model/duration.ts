const units: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/** The duration pattern, for the JSON Schema: one or more `<number><unit>` with units h, m, s, ms. */
export const durationPattern = '^([0-9]+(\\.[0-9]+)?(h|m|s|ms))+$';

/**
 * Milliseconds in a duration written like Go and Istio write them (`2s`, `150ms`, `1m30s`, `1.5h`), rounded to
 * whole milliseconds; undefined when the text is not such a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const at = part.lastIndex;
    const match = part.exec(text);
    if (match === null || match.index !== at) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
  }
  return Math.round(total);
}
