// The bytes of a group's subscriptions are bounded (rule L2; review R1). A group's union of names was bounded in
// count only (maxNamesPerGroup, 50,000), and a name may be up to the downstream server's maxNameBytes (16 KiB): the
// union grew to whatever the group's clients asked, while the group's upstream was down as well, and every request
// carrying the whole union (a SotW request, each stream's first request) went past an origin's maxRequestBytes, so
// the origin refused the group's stream again and again and the group's clients got no update. A real origin with a
// small maxRequestBytes behind a forwarder that cuts it off, a real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { parseRelayCommandLine } from './cli.js';
import { forwarder } from './test-proxy.js';
import {
  closeAfterAll,
  downstream,
  endedWithin,
  moveEndpoint,
  nextEvent,
  portOf,
  startOrigin,
  startRelay,
} from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

/** `count` endpoint names of `bytes` bytes each. */
function longNames(count: number, bytes: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i}-`.padEnd(bytes, 'x'));
}

describe("relay: the bytes of a group's subscriptions are bounded (review R1)", () => {
  it('L2, X3, X4: a subscription past maxNameBytesPerGroup while the upstream is down is refused alone; the group recovers', async () => {
    // The origin refuses requests over 32 KiB: 40 names of 1,000 bytes would not fit in one.
    const origin = await startOrigin(undefined, { limits: { maxRequestBytes: 32 * 1024 } });
    closers.push(() => origin.server.close());
    const hop = await forwarder(origin.address);
    closers.push(() => hop.close());
    const { relay, address } = await startRelay([hop.address], { maxNameBytesPerGroup: 16 * 1024 });
    closers.push(() => relay.close());
    const bystander = track(downstream(address, 'bystander'));
    bystander.subscribe(TypeUrl.Endpoint, ['c1']);
    await bystander.waitFor(TypeUrl.Endpoint, (_r, s) => portOf(s.resources.get('c1')) === 8080);

    const down = nextEvent(relay, 'upstreamDisconnected');
    hop.cut();
    await down;
    const greedy = track(downstream(address, 'greedy'));
    greedy.subscribe(TypeUrl.Endpoint, longNames(40, 1_000));
    hop.mend();
    // The origin changes c1: the group's stream comes back and carries it to the bystander.
    await moveEndpoint(origin, bystander);
    const end = await endedWithin(greedy, 'the greedy client');
    assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
    assert.match(end.details, /maxNameBytesPerGroup \(--max-name-bytes-per-group 16384\)/);
    assert.equal(relay.bounds().refused.maxNameBytesPerGroup, 1);
  });

  it('L2: a subscription past maxNameBytesAllGroups is refused alone; the groups within it keep theirs', async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const { relay, address } = await startRelay([origin.address], { maxNameBytesAllGroups: 6_000 });
    closers.push(() => relay.close());
    const first = track(downstream(address, 'first', { node: { id: 'first', cluster: 'a' } }));
    first.subscribe(TypeUrl.Endpoint, ['c1', ...longNames(4, 1_000)]);
    await first.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c1'));
    assert.ok(relay.bounds().nameBytes >= 4_000, `${relay.bounds().nameBytes} bytes of names counted`);
    // Within its own group's bound, past the relay's together.
    const second = track(downstream(address, 'second', { node: { id: 'second', cluster: 'b' } }));
    second.subscribe(TypeUrl.Endpoint, longNames(3, 1_000));
    const end = await endedWithin(second, 'the second group past the relay-wide bytes');
    assert.equal(end.code, 8, `RESOURCE_EXHAUSTED: ${end.details}`);
    assert.match(end.details, /maxNameBytesAllGroups \(--max-name-bytes-all-groups 6000\)/);
    assert.equal(relay.bounds().refused.maxNameBytesAllGroups, 1);
    const again = track(downstream(address, 'again', { node: { id: 'again', cluster: 'a' } }));
    again.subscribe(TypeUrl.Endpoint, ['c2']);
    await again.waitFor(TypeUrl.Endpoint, (_r, s) => s.resources.has('c2'));
  });

  it('L2: --max-name-bytes-per-group and --max-name-bytes-all-groups reach the options; bad values name the flag', () => {
    const flags = ['--max-name-bytes-per-group', '1000', '--max-name-bytes-all-groups', '2000'];
    const parsed = parseRelayCommandLine(['--upstream', 'a:1', ...flags]);
    assert.equal(parsed.kind === 'run' && parsed.options.maxNameBytesPerGroup, 1_000);
    assert.equal(parsed.kind === 'run' && parsed.options.maxNameBytesAllGroups, 2_000);
    const bad = parseRelayCommandLine(['--upstream', 'a:1', '--max-name-bytes-per-group', '0']);
    assert.match(
      bad.kind === 'usage-error' ? bad.message : '',
      /--max-name-bytes-per-group: "0" is not a whole number from 1/,
    );
  });
});
