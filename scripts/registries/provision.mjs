#!/usr/bin/env node
// Provisions every real service registry the registry tests start (etcd, Consul, kube-apiserver, Eureka) by running
// the scripts next to this file, which cache what they build by version outside the source tree: the first run on a
// machine builds (minutes), later runs print nothing. Builds run one after another, so the two cores are not split.
// Usage: node scripts/registries/provision.mjs [etcd|consul|kube-apiserver|eureka ...]
import { provision, registryKinds } from './servers.mjs';

const wanted = process.argv.slice(2);
const kinds = wanted.length > 0 ? wanted : registryKinds;
for (const kind of kinds) {
  if (!registryKinds.includes(kind)) {
    console.error(`provision: unknown registry "${kind}"; expected one of ${registryKinds.join(', ')}`);
    process.exit(2);
  }
}
try {
  for (const kind of kinds) provision(kind);
} catch (error) {
  console.error(`provision: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
