// Turns a composed YAML document into plain values in one pass, bounding the expanded size (rule L2). The YAML
// library's own toJS bounds aliases per anchor, not in total, and resolves each alias by scanning every anchor
// before it: 20,000 anchors take seconds, and one large anchor aliased a thousand times passes its check while
// multiplying the work of everything after it. Here each alias is resolved in constant time, counted as the
// whole value it repeats, and the walk stops as soon as the total passes maxNodes. Duplicate keys are found here
// too (with a set; the library's uniqueKeys check is quadratic in the keys of a mapping).
import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import { formatCount } from './model-limits.js';

/** A problem found while converting, at a source offset. */
export interface ValueProblem {
  /** The offset in the text of the node at fault. */
  readonly offset: number | undefined;
  readonly message: string;
}

/** The result of {@link yamlToValue}. */
export type ValueResult =
  | { readonly ok: true; readonly value: unknown; readonly nodes: number }
  | { readonly ok: false; readonly problems: readonly ValueProblem[] };

interface Anchored {
  value: unknown;
  /** The expanded size; undefined while the anchored node is being converted. */
  size: number | undefined;
}

/** Stops the walk: a limit was passed or an alias is circular. */
class Stop extends Error {
  readonly problem: ValueProblem;
  constructor(problem: ValueProblem) {
    super(problem.message);
    this.problem = problem;
  }
}

interface Walk {
  readonly maxNodes: number;
  readonly anchors: Map<string, Anchored>;
  readonly problems: ValueProblem[];
}

function offsetOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/** Sets a key without ever touching the prototype (`__proto__` is an ordinary key here). */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function grow(walk: Walk, size: number, add: number, node: unknown): number {
  const total = size + add;
  if (total > walk.maxNodes) {
    throw new Stop({
      offset: offsetOf(node),
      message: `the model expands to more than ${formatCount(walk.maxNodes)} values (mappings, lists, keys and scalars, counting each alias as what it repeats); the limit is maxNodes`,
    });
  }
  return total;
}

/** A mapping key as a property name, or undefined (with a problem recorded) when it is a mapping or list. */
function keyOf(walk: Walk, node: unknown, value: unknown): string | undefined {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  walk.problems.push({
    offset: offsetOf(node),
    message: 'a mapping key must be a plain value, not a mapping or list',
  });
  return undefined;
}

/** Converts one node; returns its value and its expanded size. Depth is bounded by the parse's maxDepth check. */
function convert(walk: Walk, node: unknown): { value: unknown; size: number } {
  if (node === null || node === undefined) return { value: null, size: 1 };
  if (isAlias(node)) {
    const anchored = walk.anchors.get(node.source);
    if (anchored === undefined) {
      walk.problems.push({
        offset: offsetOf(node),
        message: `alias *${node.source} has no anchor &${node.source} before it`,
      });
      return { value: null, size: 1 };
    }
    if (anchored.size === undefined) {
      throw new Stop({
        offset: offsetOf(node),
        message: `alias *${node.source} is inside the value it repeats (a cycle)`,
      });
    }
    return { value: anchored.value, size: anchored.size };
  }
  const anchor = (node as { anchor?: string }).anchor;
  let anchored: Anchored | undefined;
  if (anchor !== undefined && anchor !== '') {
    // A later anchor of the same name hides this one from here on, even before this node is finished.
    anchored = { value: undefined, size: undefined };
    walk.anchors.set(anchor, anchored);
  }
  let result: { value: unknown; size: number };
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, unknown>();
    let size = 1;
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const converted = convert(walk, pair.key);
      size = grow(walk, size, converted.size, pair.key);
      const key = keyOf(walk, pair.key, converted.value);
      const item = convert(walk, pair.value);
      size = grow(walk, size, item.size, pair.value ?? pair.key);
      if (key === undefined) continue;
      const first = seen.get(key);
      if (first !== undefined) {
        walk.problems.push({
          offset: offsetOf(pair.key),
          message: `mapping keys must be unique: "${key}" is already set`,
        });
        continue;
      }
      seen.set(key, pair.key);
      setKey(out, key, item.value);
    }
    result = { value: out, size };
  } else if (isSeq(node)) {
    const out: unknown[] = [];
    let size = 1;
    for (const child of node.items) {
      const item = convert(walk, child);
      size = grow(walk, size, item.size, child);
      out.push(item.value);
    }
    result = { value: out, size };
  } else if (isScalar(node)) {
    result = { value: node.value, size: 1 };
  } else {
    result = { value: null, size: 1 };
  }
  if (anchored !== undefined) {
    anchored.value = result.value;
    anchored.size = result.size;
  }
  return result;
}

/**
 * The plain value of a composed document's contents, with aliases resolved (an alias shares its anchor's value,
 * as the YAML library does), duplicate keys reported, and the expanded size bounded by `maxNodes`.
 */
export function yamlToValue(contents: unknown, maxNodes: number): ValueResult {
  const walk: Walk = { maxNodes, anchors: new Map(), problems: [] };
  try {
    const { value, size } = convert(walk, contents);
    if (walk.problems.length > 0) return { ok: false, problems: walk.problems };
    return { ok: true, value, nodes: size };
  } catch (error) {
    if (error instanceof Stop) return { ok: false, problems: [...walk.problems, error.problem] };
    throw error;
  }
}
