// What a valid model expands to once generated (rule L2): every port of a service gets a cluster and an assignment
// holding all its endpoints, and every subset another of each holding the endpoints it selects. The file's bytes
// and values do not bound that product: 600 KB of 10,000 endpoints and 100 subsets selecting all of them generate
// 1,010,000 endpoints, and the generator runs on the event loop that answers xDS. These checks count the product
// from the model (in the reader's worker, before the server sees it) and name the limit it passes.
import type { Issue } from './model-error.js';
import { formatCount, type ModelLimits } from './model-limits.js';
import type { ServiceModelInput, Subset } from './types.js';

type Labels = Readonly<Record<string, string>> | undefined;

function selects(subset: Subset, labels: Labels): boolean {
  for (const key in subset.labels) if (labels?.[key] !== subset.labels[key]) return false;
  return true;
}

/**
 * Appends an issue when the model would generate more clusters than `maxGeneratedClusters` or more endpoints than
 * `maxGeneratedEndpoints`, naming the service at which the running total passed it. Takes a model that passed the
 * shape and semantic checks (subsets already within `maxSubsetsPerService`). Stops counting once a total is past
 * its limit, so its own work is bounded by the limits.
 */
export function checkExpansion(model: ServiceModelInput, limits: ModelLimits, issues: Issue[]): void {
  let clusters = 0;
  let endpoints = 0;
  for (const [i, service] of model.services.entries()) {
    const ports = service.ports.length;
    const subsets = service.subsets ?? [];
    const members = service.endpoints ?? [];
    clusters += ports * (1 + subsets.length);
    if (clusters > limits.maxGeneratedClusters) {
      issues.push({
        path: ['services', i],
        message:
          `the services up to this one generate ${formatCount(clusters)} clusters (one per port, and one per port ` +
          `and subset), more than ${formatCount(limits.maxGeneratedClusters)}; the limit is maxGeneratedClusters`,
      });
      return;
    }
    let selected = members.length;
    for (const subset of subsets) {
      if (endpoints + ports * selected > limits.maxGeneratedEndpoints) break;
      for (const member of members) if (selects(subset, member.labels)) selected++;
    }
    endpoints += ports * selected;
    if (endpoints > limits.maxGeneratedEndpoints) {
      issues.push({
        path: ['services', i],
        message:
          `the services up to this one generate more than ${formatCount(limits.maxGeneratedEndpoints)} endpoints ` +
          "(each port has a cluster of every endpoint, and one of each subset's endpoints); the limit is " +
          'maxGeneratedEndpoints',
      });
      return;
    }
  }
}
