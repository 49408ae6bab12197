/**
 * An upper bound on the size of the program an RE2 regex compiles to, read from its text without compiling it (rule
 * L3). RE2 runs in time linear in the input, but the length of a regex does not bound its program: a repetition
 * count multiplies what it repeats, so the 808-byte `(abab…ab){1000}` compiles (in re2js) to 802,002 instructions,
 * which took 803 ms and 103 MB, and a CSDS request may carry 100 of them. A regex from a request is refused when this
 * bound passes `limits.maxRegexProgramSize`, before it is compiled.
 *
 * It counts as RE2's compiler does (re2js's `calcSize`), rounding up: a literal character, an escape, a class or an
 * anchor one instruction each (`\Q…\E` its characters), `|` two, `*`, `+` and `?` two more, a group its contents (at
 * least one) and two,
 * and `x{n}`, `x{n,}`, `x{n,m}` the larger count plus one times x, plus the count's characters. A `{` that does not start a count is a
 * literal, as in RE2; nothing inside `[…]` or after `\` starts one.
 */
export function regexSizeBound(pattern: string): number {
  // Each open group: its size so far, and the size of its last atom (what a repetition count multiplies).
  const stack: { size: number; last: number }[] = [{ size: 0, last: 0 }];
  const top = () => stack[stack.length - 1]!;
  const atom = (size: number) => {
    const frame = top();
    frame.size += size;
    frame.last = size;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        // Literal text up to \E (or the end): every character of it.
        const close = pattern.indexOf('\\E', i + 2);
        const stop = close < 0 ? pattern.length : close;
        atom(Math.max(1, stop - i - 2));
        i = close < 0 ? stop : stop + 2;
        continue;
      }
      // \p{Name}, \x{10FFFF}: to the closing brace; any other escape is two characters.
      const braced = (next === 'p' || next === 'P' || next === 'x') && pattern[i + 2] === '{';
      const close = braced ? pattern.indexOf('}', i + 3) : -1;
      atom(1);
      i = close < 0 ? i + 2 : close + 1;
    } else if (c === '[') {
      // A class, to its closing bracket: a `]` first in it, an escaped one or one of `[:name:]` does not close it.
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') {
        if (pattern[j] === '\\') j += 2;
        else if (pattern[j] === '[' && pattern[j + 1] === ':') {
          const close = pattern.indexOf(':]', j + 2);
          j = close < 0 ? j + 1 : close + 2;
        } else j++;
      }
      atom(1);
      i = j + 1;
    } else if (c === '(') {
      // Flags alone, `(?i)`, compile to nothing and leave the atom before them what a count repeats.
      const flags = /^\(\?[a-zA-Z-]*\)/.exec(pattern.slice(i, i + 16));
      if (flags !== null) i += flags[0].length;
      else {
        stack.push({ size: 0, last: 0 });
        i++;
      }
    } else if (c === ')' && stack.length > 1) {
      // An empty group still compiles to one instruction.
      atom(Math.max(1, stack.pop()!.size) + 2);
      i++;
    } else if (c === '*' || c === '+' || c === '?') {
      // A repetition operator adds a split (and a jump) to what it repeats.
      const frame = top();
      frame.size += 2;
      frame.last += 2;
      i++;
    } else if (c === '|') {
      // A split, and an empty alternative's one instruction.
      atom(2);
      i++;
    } else if (c === '{') {
      const count = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (count === null) {
        atom(1);
        i++;
        continue;
      }
      const times = Math.max(Number(count[1]), Number(count[3] || 0)) + 1;
      const frame = top();
      frame.size += frame.last * (times - 1) + count[0].length;
      frame.last *= times;
      i += count[0].length;
    } else {
      atom(1);
      i++;
    }
  }
  // The program's own instructions (fail, the match and its start) and two for each group left open.
  let size = 1;
  for (const frame of stack) size += frame.size + 2;
  return size;
}
