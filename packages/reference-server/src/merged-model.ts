// The model limits on what the server generates from (rule L2; review finding R5). The model file is bounded by
// its reader, and each registry by its own limits, but with `--registry` the server generates from their merge: a
// registry of a million instances, or a file service whose subsets each select every instance a registry brings,
// passed every cap the file's reader applied. Each merge is checked against the same `ModelLimits` (in time slices,
// rule L4) before anything is generated; a merge past one is refused with a message naming the limit, the service
// and where that service came from (the model file, the registries), and the last good snapshots stay.
import { formatPath, type ModelLimits, modelLimitIssuesAsync, type ServiceModel } from '@xds/generator';
import type { AggregateService } from '@xds/registry';

/** A merge of the model file and the registries that is past a model limit: nothing of it is generated. */
export class MergedModelRefusal extends Error {
  /** The limit it is past (`maxGeneratedEndpoints`, …). */
  readonly limit: string;
  constructor(message: string, limit: string) {
    super(message);
    this.name = 'MergedModelRefusal';
    this.limit = limit;
  }
}

/** Where a merged service came from: `the model file mesh.yaml, with instances from etcd http://…`. */
function sourceOf(
  service: { readonly name: string; readonly namespace: string },
  file: { readonly path: string; readonly model: ServiceModel },
  services: readonly AggregateService[],
): string {
  const same = (s: { readonly name: string; readonly namespace: string }) =>
    s.name === service.name && s.namespace === service.namespace;
  const registries = [...new Set(services.filter(same).flatMap((s) => s.sources))];
  const inFile = file.model.services.some(same);
  if (!inFile) return `from ${registries.join(', ')}`;
  return registries.length === 0
    ? `the model file ${file.path}`
    : `the model file ${file.path}, with instances from ${registries.join(', ')}`;
}

/**
 * Checks `merged` (what `serviceModelOf` made of the model file and the registries' `services`) against `limits`;
 * throws a {@link MergedModelRefusal} naming the limit, the service where a total passed it and its source. Runs in
 * time slices; rejects with the signal's reason when it is aborted.
 */
export async function checkMergedModel(
  merged: ServiceModel,
  file: { readonly path: string; readonly model: ServiceModel },
  services: readonly AggregateService[],
  limits: Partial<ModelLimits>,
  signal?: AbortSignal,
): Promise<void> {
  const issues = await modelLimitIssuesAsync(merged, limits, signal === undefined ? {} : { signal });
  const issue = issues[0];
  if (issue === undefined) return;
  const index = issue.path[1];
  const service = typeof index === 'number' ? merged.services[index] : undefined;
  const where =
    service === undefined
      ? ''
      : `${formatPath(issue.path)} ${service.name}.${service.namespace} (${sourceOf(service, file, services)}): `;
  const limit = /the limit is (\w+)/.exec(issue.message)?.[1] ?? 'a model limit';
  throw new MergedModelRefusal(
    `the model merged from ${file.path} and the registries (${merged.services.length.toLocaleString('en-US')} services) ` +
      `is past ${limit}: ${where}${issue.message}`,
    limit,
  );
}
