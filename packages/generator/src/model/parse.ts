// Service model text (YAML or JSON) to a checked model, with every error placed at its file, line and column.
// Reading is bounded (rule L2) by ModelLimits: size first, then nesting while the syntax is read, then the
// expanded size while values are built, so that no file can take the process down or stall it for long.
import {
  Composer,
  type CST,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  Parser,
} from 'yaml';
import type { Issue, ModelError, ModelResult, PathSegment } from './model-error.js';
import { formatPath } from './model-error.js';
import { formatCount, type ModelLimits, resolveModelLimits } from './model-limits.js';
import { normalizeModel } from './normalize.js';
import type { ServiceModelInput } from './types.js';
import { modelIssues } from './validate.js';
import { yamlToValue } from './yaml-value.js';

type Token = CST.Token;

/** Options of {@link parseModel}. */
export interface ParseModelOptions {
  /** The file name to put in errors. */
  readonly file?: string;
  /** Bounds on the text's size, nesting and expanded size; each unset one takes its default. */
  readonly limits?: Partial<ModelLimits>;
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

type Located = { readonly offset: number | undefined; readonly message: string };

function placed(located: readonly Located[], lines: LineCounter, file: string | undefined): ModelError[] {
  return located.map(({ offset, message }) => {
    const position = offset === undefined ? undefined : lines.linePos(offset);
    return {
      ...(file === undefined ? {} : { file }),
      ...(position === undefined ? {} : { line: position.line, column: position.col }),
      path: '',
      message,
    };
  });
}

/** The errors, the first `maxErrors` of them when there are more, and then one saying how many were left out. */
function failed(errors: ModelError[], limits: ModelLimits, file: string | undefined): ModelResult {
  if (errors.length <= limits.maxErrors) return { ok: false, errors };
  const left = errors.length - limits.maxErrors;
  const message = `${formatCount(left)} more error${left === 1 ? '' : 's'} not shown; the limit is maxErrors`;
  return {
    ok: false,
    errors: [
      ...errors.slice(0, limits.maxErrors),
      { ...(file === undefined ? {} : { file }), path: '', message },
    ],
  };
}

/** The offset of the first character past `maxBytes` UTF-8 bytes, or undefined when the text fits. */
function offsetPastBytes(text: string, maxBytes: number): number | undefined {
  if (text.length <= maxBytes / 3) return undefined; // at most 3 bytes per UTF-16 unit
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : unit >= 0xd800 && unit < 0xdc00 ? 4 : 3;
    if (unit >= 0xd800 && unit < 0xdc00) i++; // the low surrogate was counted with its high one
    if (bytes > maxBytes) return i;
  }
  return undefined;
}

/**
 * The concrete syntax tokens of the text, built with the library's lexer and parser (both iterative), or the
 * offset where the nesting passed `maxDepth`: composing a deeper document recurses once per level, and past the
 * stack's end V8 may abort the whole process instead of throwing.
 */
function tokens(
  text: string,
  lines: LineCounter,
  maxDepth: number,
): { ok: true; tokens: Token[] } | { ok: false; offset: number } {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const out: Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) out.push(token);
    // The stack holds the document, every open collection, and on top the scalar being read, if any.
    const { stack } = parser;
    const top = stack[stack.length - 1]?.type;
    const depth =
      stack.length - 1 - (top === 'block-map' || top === 'block-seq' || top === 'flow-collection' ? 0 : 1);
    if (depth > maxDepth) return { ok: false, offset: parser.offset };
  }
  for (const token of parser.end()) out.push(token);
  return { ok: true, tokens: out };
}

/**
 * Parses a service model from YAML or JSON text and validates it. Every error comes back at once, each with the
 * file, 1-based line and column, the path (`services[0].ports[0].port`) and a message; never throws. The text's
 * size, nesting and expanded size are bounded by `limits` ({@link defaultModelLimits}); an error names the limit.
 */
export function parseModel(text: string, options: ParseModelOptions = {}): ModelResult {
  const { file } = options;
  const limits = resolveModelLimits(options.limits);
  const lines = new LineCounter();
  const past = offsetPastBytes(text, limits.maxBytes);
  if (past !== undefined) {
    lines.addNewLine(0);
    for (let at = text.indexOf('\n'); at !== -1 && at < past; at = text.indexOf('\n', at + 1)) {
      lines.addNewLine(at + 1);
    }
    return {
      ok: false,
      errors: placed(
        [
          {
            offset: past,
            message: `the file is larger than ${formatCount(limits.maxBytes)} bytes; the limit is maxBytes`,
          },
        ],
        lines,
        file,
      ),
    };
  }
  const parsed = tokens(text, lines, limits.maxDepth);
  if (!parsed.ok) {
    const message = `mappings and lists are nested more than ${limits.maxDepth} deep; the limit is maxDepth`;
    return { ok: false, errors: placed([{ offset: parsed.offset, message }], lines, file) };
  }
  const composer = new Composer({ uniqueKeys: false });
  const docs = [...composer.compose(parsed.tokens, true, text.length)];
  const doc = docs[0]!;
  const syntax: Located[] = doc.errors.map((error) => ({ offset: error.pos[0], message: error.message }));
  if (docs.length > 1) {
    syntax.push({ offset: docs[1]!.range[0], message: 'the file holds more than one YAML document' });
  }
  if (syntax.length > 0) return failed(placed(syntax, lines, file), limits, file);
  const converted = yamlToValue(doc.contents, limits.maxNodes);
  if (!converted.ok) return failed(placed(converted.problems, lines, file), limits, file);
  const value = converted.value;
  const issues = modelIssues(value, limits);
  if (issues.length > 0) {
    const errors = issues.map((issue) => locate(issue, doc.contents, lines, file));
    errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return failed(errors, limits, file);
  }
  return { ok: true, model: normalizeModel(value as ServiceModelInput) };
}
