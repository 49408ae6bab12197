// Decoys: two ordinary clients whose node ids are the strings that classic backtracking regexes blow up on
// (`aaaa…!`, `xxxx…`). They stay connected during a run, as any mesh has odd node ids, so that CSDS node matchers
// from the fuzzer meet them (rule L3: no regex from outside runs in a backtracking engine).
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';

/** The decoys' node ids. */
export const decoyIds: readonly string[] = Object.freeze(['a'.repeat(30) + '!', 'x'.repeat(30)]);

/** Connects the decoys (each subscribes to clusters; no snapshot exists for them, so they only wait). */
export function connectDecoys(address: string): XdsTestClient[] {
  return decoyIds.map((id) => {
    const client = new XdsTestClient({ address, node: id, timeoutMs: 30_000 });
    client.subscribe(TypeUrl.Cluster, []);
    return client;
  });
}
