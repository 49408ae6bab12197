// The Bookinfo example model for tests (examples/bookinfo.yaml), and small helpers around it.
import { readFileSync } from 'node:fs';
import { parseModel } from './model/parse.js';
import type { ServiceModel } from './model/types.js';

/** The path of examples/bookinfo.yaml. */
export const bookinfoFile = new URL('../examples/bookinfo.yaml', import.meta.url);

/** The Bookinfo model; throws with every error when the example does not parse. */
export function bookinfo(): ServiceModel {
  const result = parseModel(readFileSync(bookinfoFile, 'utf8'), { file: 'bookinfo.yaml' });
  if (!result.ok)
    throw new Error(result.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('\n'));
  return result.model;
}

/** The model with one endpoint's port of one service changed (an endpoint-only change). */
export function withEndpointPort(
  model: ServiceModel,
  service: string,
  index: number,
  port: number,
): ServiceModel {
  return {
    ...model,
    services: model.services.map((s) =>
      s.name !== service
        ? s
        : { ...s, endpoints: s.endpoints.map((e, i) => (i === index ? { ...e, port } : e)) },
    ),
  };
}
