import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Issue, ModelError, ModelResult, PathSegment } from './model-error.js';
import { formatPath } from './model-error.js';
import { normalizeModel } from './normalize.js';
import type { ServiceModelInput } from './types.js';
import { modelIssues } from './validate.js';

/** Options of {@link parseModel}. */
export interface ParseModelOptions {
  /** The file name to put in errors. */
  readonly file?: string;
}

/** The source offset an issue points at: the key or value at its path, or the deepest node that exists. */
function offsetOf(root: unknown, issue: Issue): number | undefined {
  let node: unknown = root;
  let key: Node | undefined;
  let complete = true;
  const path: readonly PathSegment[] = issue.target === 'parent' ? issue.path.slice(0, -1) : issue.path;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) {
        complete = false;
        break;
      }
      key = pair.key as Node;
      node = pair.value ?? undefined;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      key = undefined;
      node = node.items[segment];
    } else {
      complete = false;
      break;
    }
  }
  if (complete && issue.target === 'key' && key?.range) return key.range[0];
  const range = (node as Node | undefined)?.range ?? key?.range;
  return range?.[0];
}

function locate(issue: Issue, root: unknown, lines: LineCounter, file: string | undefined): ModelError {
  const offset = offsetOf(root, issue);
  const position = offset === undefined ? undefined : lines.linePos(offset);
  return {
    ...(file === undefined ? {} : { file }),
    ...(position === undefined ? {} : { line: position.line, column: position.col }),
    path: formatPath(issue.path),
    message: issue.message,
  };
}

/**
 * Parses a service model from YAML or JSON text and validates it. Every error comes back at once, each with the
 * file, 1-based line and column, the path (`services[0].ports[0].port`) and a message; never throws.
 */
export function parseModel(text: string, options: ParseModelOptions = {}): ModelResult {
  const { file } = options;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((error) => {
        const position = error.linePos?.[0];
        return {
          ...(file === undefined ? {} : { file }),
          ...(position === undefined ? {} : { line: position.line, column: position.col }),
          path: '',
          message: error.message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [{ ...(file === undefined ? {} : { file }), path: '', message }] };
  }
  const issues = modelIssues(value);
  if (issues.length > 0) {
    const errors = issues.map((issue) => locate(issue, doc.contents, lines, file));
    errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return { ok: false, errors };
  }
  return { ok: true, model: normalizeModel(value as ServiceModelInput) };
}
