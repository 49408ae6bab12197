/**
 * `--model-limit NAME=VALUE`: how `xds-server` sets `@xds/generator`'s `ModelLimits` (rule L2), the bounds on what
 * the model file may cost to read and what the model may generate; with `--registry` they bound the merge of the
 * file and the registries too (merged-model.ts), and registries at their own default limits can pass the model's
 * defaults, so an operator needs to raise them without code. The names and defaults are `@xds/generator`'s (its
 * light `limits` entry: `--help` loads no YAML parser), so the flag, `--help` and the docs agree.
 */
import { defaultModelLimits, type ModelLimits, maxModelDepthCeiling } from '@xds/generator/limits';
import { maxLimitValue } from './limit-flags.js';
import { type NamedLimitFlag, namedLimitRows, parseNamedLimits } from './named-limit-flag.js';

/** What each model limit bounds, one line each, for `--help`. */
export const modelLimitMeanings: { readonly [K in keyof ModelLimits]-?: string } = Object.freeze({
  maxBytes: 'bytes of the model file',
  maxDepth: 'mappings and lists of the file nested in each other',
  maxNodes:
    'values (mappings, lists, keys, scalars) of the file after YAML aliases, and of its merge with the registries',
  maxErrors: 'errors reported for one change of the file',
  maxSubsetsPerService: 'subsets of one service',
  maxGeneratedClusters:
    'clusters the model (with the registries) generates: over services, ports x (1 + subsets)',
  maxGeneratedEndpoints:
    "endpoints the model (with the registries) generates: each port's cluster all, each subset's those it selects",
});

const flag: NamedLimitFlag = {
  flag: 'model-limit',
  kind: 'model limit',
  example: 'maxGeneratedEndpoints=200000',
  names: Object.fromEntries(
    (Object.keys(defaultModelLimits) as (keyof ModelLimits)[]).map((name) => [
      name,
      {
        defaultValue: defaultModelLimits[name],
        min: 1,
        max: name === 'maxDepth' ? maxModelDepthCeiling : maxLimitValue,
        meaning: modelLimitMeanings[name],
      },
    ]),
  ),
};

/** The `--model-limit` section of `--help`. */
export function modelLimitsUsage(): string {
  return [
    '  --model-limit NAME=VALUE  (repeatable) past one, a change of the file is refused (the last good model',
    '                       stays), and so is a merge with the registries (the last good snapshots stay);',
    '                       NAME (default, meaning) is one of:',
    ...namedLimitRows(flag, maxLimitValue),
  ].join('\n');
}

/**
 * Parses the `--model-limit` values, or returns one line naming the first problem: not `NAME=VALUE`, an unknown
 * name (with the known ones), a value that is not a whole number from 1 to {@link maxLimitValue} (`maxDepth`: to
 * {@link maxModelDepthCeiling}), or a name given twice.
 */
export function parseModelLimitFlags(
  values: string | boolean | string[] | undefined,
): Partial<ModelLimits> | string {
  return parseNamedLimits(flag, values) as Partial<ModelLimits> | string;
}
