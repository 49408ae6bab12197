// Rule L2 for the text registries send (review Q3, Q9, R4, R12): what an adapter keeps of an object or an instance
// is bounded by Kubernetes' own limits (253 for names, 63 for namespaces, port names, zones and label values, 317
// for label keys; metadata by maxInstanceLabelBytes), an object past them is kept only as its reason, labels given as
// a string are refused (they used to become one label per character), and a problem quotes registry text cut.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { keptOf } from './eureka-answer.js';
import type { EurekaInstance } from './eureka-services.js';
import { boundedKey, cutText, maxQuotedBytes } from './kept-text.js';
import { compactPod, compactService, compactSlice } from './kube-compact.js';
import { MemoryRegistry } from './memory.js';

const long = 'x'.repeat(100_000);

describe('cutText and boundedKey', () => {
  it('L2: text past the bound is cut at a character and says how long it was; short text is kept as it is', () => {
    assert.equal(cutText('web.default'), 'web.default');
    assert.equal(cutText(long), `${'x'.repeat(256)}… [cut: 100000 bytes, kept 256]`);
    // 3 bytes each: 85 of them fit in 256 bytes, never half of one
    assert.equal(cutText('€'.repeat(200)), `${'€'.repeat(85)}… [cut: 600 bytes, kept 255]`);
    assert.equal(maxQuotedBytes, 256);
  });

  it('L2: a key of long names is bounded, and two long names keep two keys', () => {
    assert.equal(boundedKey('default', 'web'), 'default/web');
    const a = boundedKey('default', `${long}a`);
    const b = boundedKey('default', `${long}b`);
    assert.notEqual(a, b);
    assert.ok(a.length < 200, a);
    assert.match(a, /^default\/x{64}… \(100009 characters, sha256 [0-9a-f]{16}\)$/);
  });
});

describe('what the Kubernetes adapter keeps (kube-compact.ts)', () => {
  it('L2: R12: a Pod whose labels are a string is refused naming the field, not made one label per character', () => {
    const pod = compactPod({ metadata: { labels: 'app' as never } } as V1Pod, 4096);
    assert.deepEqual(pod.labels, {});
    assert.equal(pod.refused, 'its metadata.labels is "app", not a map of strings');
  });

  it('L2: a Pod label past Kubernetes limits (value 63, key 317) is refused naming it; the reason is short', () => {
    const value = compactPod({ metadata: { labels: { app: 'v'.repeat(64) } } } as V1Pod, 1_000_000);
    assert.deepEqual(value, {
      labels: {},
      refused: 'the value of its label "app" is 64 characters, over the limit of 63 (a label value)',
    });
    const key = compactPod({ metadata: { labels: { [long]: 'v' } } } as V1Pod, 1_000_000);
    assert.match(
      key.refused ?? '',
      /its label key "x{256}… \[cut: 100000 bytes, kept 256\]" is 100000 characters, over the limit of 317/,
    );
    assert.ok(JSON.stringify(key).length < 1_000);
    assert.deepEqual(compactPod({ metadata: { labels: { app: 'web' } } } as V1Pod, 4096), {
      labels: { app: 'web' },
    });
  });

  it('L2: a Service with a name, a port name or an appProtocol past its limit is kept only as the reason', () => {
    const named = compactService({ metadata: { name: long, namespace: 'default' } } as V1Service);
    assert.deepEqual(named, {
      name: '',
      namespace: '',
      ports: [],
      refused: 'metadata.name is 100000 characters, over the limit of 253 (a DNS subdomain)',
    });
    const port = compactService({
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        ports: [
          { port: 80, name: 'http' },
          { port: 81, name: 'p'.repeat(64) },
        ],
      },
    } as V1Service);
    assert.equal(port.refused, 'spec.ports[1].name is 64 characters, over the limit of 63 (a DNS label)');
    const app = compactService({
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80, appProtocol: long }] },
    } as V1Service);
    assert.match(
      app.refused ?? '',
      /^spec\.ports\[0\]\.appProtocol is 100000 characters, over the limit of 317/,
    );
    assert.deepEqual(
      compactService({
        metadata: { name: 'web', namespace: 'default' },
        spec: { ports: [{ port: 80, name: 'http', appProtocol: 'http' }] },
      } as V1Service),
      { name: 'web', namespace: 'default', ports: [{ name: 'http', port: 80, appProtocol: 'http' }] },
    );
  });

  it('L2: an endpoint with an address or a zone past its limit is cut from the slice and counted, with the reason', () => {
    const slice = compactSlice({
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: long as never,
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { addresses: ['192.0.2.1'], zone: 'z1' },
        { addresses: ['192.0.2.2', long] },
        { addresses: ['192.0.2.3'], zone: long },
      ],
    } as V1EndpointSlice);
    assert.deepEqual(
      slice.endpoints.map((e) => e.addresses),
      [['192.0.2.1']],
    );
    assert.equal(slice.cut, 2);
    assert.equal(
      slice.cutWhy,
      'endpoints[1].addresses[1] is 100000 characters, over the limit of 253 (a DNS subdomain)',
    );
    assert.equal(slice.addressType, 'other', 'an address type that is none of the three is not kept');
    assert.ok(JSON.stringify(slice).length < 1_000);
  });
});

describe('what the Eureka adapter keeps (keptOf)', () => {
  it('L2: R12: metadata given as a string is refused naming the field, not made one label per character', () => {
    const kept = keptOf({ ipAddr: '192.0.2.1', status: 'UP', metadata: 'abc' as never }, 4096);
    assert.deepEqual(kept, { status: 'UP', refused: 'its metadata is "abc", not a map of strings' });
  });

  it('L2: metadata past maxInstanceLabelBytes and text past its bound are kept only as the reason', () => {
    const heavy = keptOf(
      { ipAddr: '192.0.2.1', status: 'UP', metadata: { blob: 'b'.repeat(5000) }, lastUpdatedTimestamp: '7' },
      4096,
    );
    assert.deepEqual(heavy, {
      status: 'UP',
      lastUpdatedTimestamp: 7,
      refused: 'its metadata is 5004 bytes, over the limit of 4096 (maxInstanceLabelBytes)',
    });
    const address = keptOf({ ipAddr: long, status: 'UP' }, 4096);
    assert.match(address.refused ?? '', /^ipAddr is 100000 characters, over the limit of 253/);
    const port = keptOf({ ipAddr: '192.0.2.1', port: { $: long } }, 4096);
    assert.match(port.refused ?? '', /^port\.\$ is 100000 characters/);
    for (const kept of [address, port]) assert.ok(JSON.stringify(kept).length < 300);
    const plain: EurekaInstance = {
      ipAddr: '192.0.2.1',
      status: 'UP',
      vipAddress: 'web.eureka',
      port: { $: 8080, '@enabled': 'true' },
      metadata: { '@class': 'java.util.Collections$EmptyMap', zone: 'z1' },
    };
    assert.deepEqual(keptOf(plain, 4096), {
      ipAddr: '192.0.2.1',
      status: 'UP',
      vipAddress: 'web.eureka',
      port: { $: 8080, '@enabled': true },
      metadata: { zone: 'z1' },
    });
  });
});

describe('problems quote registry text cut (check-service.ts)', () => {
  it('L2: R4: a service left out for a long host name or address is named by its text cut, not whole', () => {
    const registry = new MemoryRegistry('text');
    const instance = {
      ports: { http: 8080 },
      labels: {},
      locality: { region: '', zone: '', subZone: '' },
      weight: 1,
      healthy: true,
    };
    registry.set([
      {
        hostname: long,
        name: 'a',
        namespace: 'default',
        ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
        instances: [],
      },
      {
        hostname: 'web.default',
        name: 'web',
        namespace: 'default',
        ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
        instances: [
          { ...instance, address: '192.0.2.1' },
          { ...instance, address: long },
        ],
      },
    ]);
    assert.deepEqual(
      registry.services().map((s) => [s.hostname, s.instances.length]),
      [['web.default', 1]],
    );
    const { itemErrors, lastError } = registry.status();
    assert.equal(itemErrors.length, 2);
    for (const problem of itemErrors) {
      assert.ok(
        `${problem.item} ${problem.message}`.length < 1_000,
        `${problem.item} ${problem.message}`.slice(0, 2000),
      );
      assert.match(`${problem.item} ${problem.message}`, /x{256}… \[cut: 100000 bytes, kept 256\]/);
    }
    assert.ok((lastError?.message.length ?? 0) < 2_000);
  });
});
