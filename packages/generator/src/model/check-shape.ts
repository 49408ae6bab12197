import { closest, didYouMean } from './closest.js';
import type { JsonSchema } from './json-schema.js';
import type { Issue, PathSegment } from './model-error.js';

/** A short description of a value for messages: `a string ("80")`, `a list`, `null`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value)})`;
    case 'number':
      return `a number (${value})`;
    case 'boolean':
      return `a boolean (${value})`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const expected: Readonly<Record<NonNullable<JsonSchema['type']>, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

/** True for a plain mapping (not a list, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeMatches(value: unknown, type: NonNullable<JsonSchema['type']>): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (ref === undefined) return schema;
  const name = ref.slice(ref.lastIndexOf('/') + 1);
  const target = root.definitions?.[name];
  if (target === undefined) throw new Error(`schema: unknown reference ${ref}`);
  return target;
}

/**
 * Checks a value against the model's JSON Schema and appends an issue for every violation: wrong types, missing
 * and unknown fields (with the closest known name), enums, ranges, list and mapping sizes. Patterns and lengths
 * are left to the semantic checks, which explain them better.
 */
export function checkShape(
  value: unknown,
  schema: JsonSchema,
  root: JsonSchema,
  path: PathSegment[],
  issues: Issue[],
): void {
  const s = resolve(schema, root);
  if (s.type !== undefined && !typeMatches(value, s.type)) {
    issues.push({ path: [...path], message: typeMessage(value, s.type) });
    return;
  }
  if (s.enum !== undefined && typeof value === 'string' && !s.enum.includes(value)) {
    issues.push({
      path: [...path],
      message: `${JSON.stringify(value)} is not one of ${s.enum.join(', ')}${didYouMean(value, s.enum)}`,
    });
  }
  if (typeof value === 'number') checkRange(value, s, path, issues);
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) {
      issues.push({
        path: [...path],
        message: `needs at least ${s.minItems} ${s.minItems === 1 ? 'entry' : 'entries'}`,
      });
    }
    if (s.items !== undefined) {
      for (const [i, item] of value.entries()) checkShape(item, s.items, root, [...path, i], issues);
    }
  }
  if (isRecord(value)) checkObject(value, s, root, path, issues);
}

function typeMessage(value: unknown, type: NonNullable<JsonSchema['type']>): string {
  let hint = '';
  if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    hint = ` (quote it: "${String(value)}")`;
  }
  if ((type === 'integer' || type === 'number') && typeof value === 'string' && /^\d+$/.test(value)) {
    hint = ' (remove the quotes)';
  }
  return `expected ${expected[type]}, got ${describe(value)}${hint}`;
}

function checkRange(value: number, s: JsonSchema, path: PathSegment[], issues: Issue[]): void {
  const { minimum: min, maximum: max } = s;
  const low = min !== undefined && value < min;
  const high = max !== undefined && value > max;
  if (!low && !high) return;
  const message =
    min !== undefined && max !== undefined
      ? `${value} is out of range ${min}..${max}`
      : low
        ? `${value} is less than ${min}`
        : `${value} is more than ${max}`;
  issues.push({ path: [...path], message });
}

function checkObject(
  value: Record<string, unknown>,
  s: JsonSchema,
  root: JsonSchema,
  path: PathSegment[],
  issues: Issue[],
): void {
  const properties = s.properties ?? {};
  const known = Object.keys(properties);
  for (const name of s.required ?? []) {
    if (value[name] === undefined || value[name] === null) {
      issues.push({ path: [...path, name], message: `missing required field "${name}"`, target: 'parent' });
    }
  }
  const size = Object.keys(value).length;
  if (s.minProperties === 1 && s.maxProperties === 1 && size !== 1) {
    issues.push({ path: [...path], message: `set exactly one of ${known.join(', ')}` });
  }
  for (const [name, child] of Object.entries(value)) {
    const property = properties[name];
    if (property !== undefined) {
      if (child !== undefined && child !== null) checkShape(child, property, root, [...path, name], issues);
      else if (!(s.required ?? []).includes(name)) {
        issues.push({ path: [...path, name], message: `"${name}" has no value; remove it or give one` });
      }
      continue;
    }
    const extra = s.additionalProperties;
    if (typeof extra === 'object') {
      checkShape(child, extra, root, [...path, name], issues);
    } else if (extra === false) {
      const suggestion = closest(name, known);
      const message =
        suggestion === undefined
          ? `unknown field "${name}"; expected one of ${known.join(', ')}`
          : `unknown field "${name}" (did you mean "${suggestion}"?)`;
      issues.push({ path: [...path, name], message, target: 'key' });
    }
  }
}
