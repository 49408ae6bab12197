// The Bookinfo example model for tests (examples/bookinfo.yaml), small helpers around it, and a model at the
// generation limits.
import { readFileSync } from 'node:fs';
import { parseModel } from './model/parse.js';
import type { ServiceModel } from './model/types.js';
import { validateModel } from './model/validate.js';

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

/**
 * A model at the default generation limits (rule L4's case): one service of 1,000 endpoints and 99 subsets that
 * each select all of them, so 100 ClusterLoadAssignments hold 100,000 endpoints. Endpoint 0 serves on
 * `8080 + shift`: another shift changes every assignment.
 */
export function limitsModel(shift = 0): ServiceModel {
  const result = validateModel({
    services: [
      {
        name: 'wide',
        ports: [{ name: 'http', port: 80 }],
        endpoints: Array.from({ length: 1000 }, (_, i) => ({
          address: `10.0.${i >> 8}.${i & 255}`,
          port: i === 0 ? 8080 + shift : 8080,
          labels: { app: 'wide' },
        })),
        subsets: Array.from({ length: 99 }, (_, i) => ({ name: `v${i}`, labels: { app: 'wide' } })),
      },
    ],
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.model;
}
