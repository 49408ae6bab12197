import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type DiscoveryRequest, DiscoveryRequestSchema, TypeUrl } from '@xds/api';
import { UndecodableRequest } from './codec.js';
import { resourceNamesBytes, sotwRequestDecoder } from './sotw-request.js';

describe('SotW request decoding', () => {
  const decoder = sotwRequestDecoder(DiscoveryRequestSchema);
  const names = Array.from({ length: 20 }, (_, i) => `service-${i}.ns.svc.cluster.local:80`);
  const encode = (fields: MessageInitShape<typeof DiscoveryRequestSchema>) =>
    Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, fields)));

  it('S9: a long resource_names list is decoded when read, and its bytes are kept', () => {
    const bytes = encode({
      node: { id: 'n' },
      typeUrl: TypeUrl.Endpoint,
      resourceNames: names,
      responseNonce: '7',
    });
    const request = decoder(bytes);
    assert.ok(!(request instanceof UndecodableRequest));
    assert.equal(request.node?.id, 'n');
    assert.equal(request.responseNonce, '7');
    assert.equal(request.typeUrl, TypeUrl.Endpoint);
    assert.deepEqual(request.resourceNames, names);
    const kept = resourceNamesBytes(request);
    assert.ok(kept !== undefined && kept.length > 20 * names[0]!.length);
    // The same names in another request give the same bytes; one name changed gives others.
    const again = decoder(encode({ typeUrl: TypeUrl.Endpoint, resourceNames: names, responseNonce: '8' }));
    assert.ok(kept.equals(resourceNamesBytes(again as object)!));
    const other = decoder(encode({ resourceNames: [...names.slice(0, 19), 'other'] }));
    assert.ok(!kept.equals(resourceNamesBytes(other as object)!));
  });

  it('short lists, names split by other fields and bad bytes are decoded whole', () => {
    const short = decoder(encode({ resourceNames: ['a', 'b'] }));
    assert.deepEqual((short as DiscoveryRequest).resourceNames, ['a', 'b']);
    assert.equal(resourceNamesBytes(short as object), undefined);
    // resource_names, then type_url, then more resource_names: legal protobuf, decoded by protobuf-es.
    const head = encode({ resourceNames: names.slice(0, 10) });
    const middle = encode({ typeUrl: TypeUrl.Cluster });
    const tail = encode({ resourceNames: names.slice(10) });
    const split = decoder(Buffer.concat([head, middle, tail])) as DiscoveryRequest;
    assert.deepEqual(split.resourceNames, names);
    assert.equal(split.typeUrl, TypeUrl.Cluster);
    const bad = decoder(Buffer.concat([encode({ resourceNames: names }), Buffer.from([0x1a, 0x7f])]));
    assert.ok(bad instanceof UndecodableRequest);
    assert.match(bad.message, /envoy.service.discovery.v3.DiscoveryRequest does not parse/);
  });
});
