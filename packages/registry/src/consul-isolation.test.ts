// Rule L2 for the Consul adapter: one broken service must not hold the registry. A real Consul agent serves the
// good services; a loopback proxy in front of it (consul-stall-proxy.ts) breaks the health answers of the others,
// since a real Consul cannot be made to hang one service's answer mid-body or stream an endless one. Before: a
// service whose health answer hung kept the registry from syncing and froze every later update; endless answers
// of many services were each bounded, but not together; and once they were, big answers holding the shared budget
// refused a small service's answer (left out, read again) until one of them gave its bytes back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { ConsulRegistry } from './consul.js';
import { brokenAnswerStart, type ConsulStallProxy, startConsulStallProxy } from './consul-stall-proxy.js';
import { assertParsedOffLoop, loopTurns, pollUntil, until } from './test-support.js';

async function register(base: string, name: string, port: number): Promise<void> {
  const response = await fetch(`${base}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ Name: name, ID: name, Address: '192.0.2.1', Port: port }),
  });
  assert.equal(response.status, 200, await response.text());
}

function portOf(registry: ConsulRegistry, name: string): number | undefined {
  return registry.services().find((s) => s.name === name)?.instances[0]?.port;
}

function problemOf(registry: ConsulRegistry, name: string): string | undefined {
  return registry.status().itemErrors.find((p) => p.item === JSON.stringify(name))?.message;
}

/** A real Consul and the breaking proxy in front of it, started before the suite's tests and stopped after them. */
interface ConsulBehindProxy {
  readonly consul: RunningServer;
  readonly proxy: ConsulStallProxy;
}

/** Starts a Consul and its proxy for the calling suite (call it in a `describe`); they exist once `before` ran. */
function consulBehindProxy(): ConsulBehindProxy {
  let started: ConsulBehindProxy | undefined;
  before(async () => {
    const consul = await startConsul();
    started = { consul, proxy: await startConsulStallProxy(consul.url) };
  });
  after(async () => {
    await started?.proxy.close();
    await started?.consul.stop();
  });
  const get = (): ConsulBehindProxy => {
    if (started === undefined) throw new Error('Consul is not started yet (used outside a test)');
    return started;
  };
  return {
    get consul() {
      return get().consul;
    },
    get proxy() {
      return get().proxy;
    },
  };
}

/** A started ConsulRegistry reading through `proxy`, quick to give up on an answer, with a byte budget if given. */
function startRegistry(proxy: ConsulStallProxy, maxRegistryBytesInFlight?: number): ConsulRegistry {
  const registry = new ConsulRegistry(proxy.url, {
    waitSeconds: 2,
    maxBackoffMs: 300,
    firstAnswerMs: 1000,
    ...(maxRegistryBytesInFlight === undefined ? {} : { limits: { maxRegistryBytesInFlight } }),
  });
  registry.start();
  return registry;
}

describe('ConsulRegistry with one broken service (real Consul behind a breaking proxy)', () => {
  const env = consulBehindProxy();

  it('L2: a service whose health answer never ends is left out and reported; the others sync and follow', async () => {
    await register(env.consul.url, 'alpha', 9001);
    await register(env.consul.url, 'hang-1', 9100);
    env.proxy.hang('hang-1');
    const registry = startRegistry(env.proxy);
    try {
      await until(registry, () => registry.status().synced, 'the first sync without hang-1', 60_000);
      assert.equal(portOf(registry, 'alpha'), 9001);
      assert.equal(portOf(registry, 'hang-1'), undefined);
      assert.match(problemOf(registry, 'hang-1') ?? '', /service left out: .*(firstAnswerMs|abort|timeout)/);
      await register(env.consul.url, 'alpha', 9002);
      await until(
        registry,
        () => portOf(registry, 'alpha') === 9002,
        'alpha to move while hang-1 hangs',
        60_000,
      );
      // a service that starts hanging after the first sync holds nothing back either
      env.proxy.hang('hang-2');
      await register(env.consul.url, 'hang-2', 9101);
      await until(
        registry,
        () => problemOf(registry, 'hang-2') !== undefined,
        'hang-2 to be reported',
        60_000,
      );
      await register(env.consul.url, 'alpha', 9003);
      await until(registry, () => portOf(registry, 'alpha') === 9003, 'alpha to move while two hang', 60_000);
      assert.equal(portOf(registry, 'hang-2'), undefined);
    } finally {
      await registry.stop();
    }
  });

  it('L2: health answers being read at once share maxRegistryBytesInFlight; past it, a clear error', async () => {
    const limit = 2 * 1024 * 1024;
    await register(env.consul.url, 'steady', 9200);
    for (let i = 0; i < 4; i++) {
      env.proxy.stream(`big-${i}`, 1024 * 1024);
      await register(env.consul.url, `big-${i}`, 9300 + i);
    }
    const registry = startRegistry(env.proxy, limit);
    const overBudget = (): boolean =>
      registry.status().itemErrors.some((p) => p.message.includes('(maxRegistryBytesInFlight)'));
    try {
      // 4 endless answers of 1 MiB each would hold 4 MiB: at least one is cancelled
      await until(registry, () => registry.status().synced && overBudget(), 'a budget error', 60_000);
      // a quarter of the budget is kept for small reads: steady's answer is never the one refused
      await until(
        registry,
        () => portOf(registry, 'steady') === 9200,
        'the good service to be served',
        60_000,
      );
      const bytes = registry.bodyBytes();
      assert.ok(bytes.peak > 0 && bytes.peak <= limit, `peak ${bytes.peak} bytes held, limit ${limit}`);
      assert.ok(env.proxy.streamed() > limit, `the proxy offered ${env.proxy.streamed()} bytes`);
    } finally {
      await registry.stop();
    }
    // every read gives its bytes back once stopped (polled with a deadline: no event follows a stop)
    const deadline = Date.now() + 20_000;
    while (registry.bodyBytes().held > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(registry.bodyBytes().held, 0, 'bytes still held after stop');
  });
});

describe('ConsulRegistry reading big answers and a small one (real Consul behind a breaking proxy)', () => {
  const env = consulBehindProxy();

  it('L2: big answers holding maxRegistryBytesInFlight never refuse a small one: a quarter is kept for small reads', async () => {
    const limit = 2 * 1024 * 1024;
    // four answers of a quarter of the limit each, which then hang: together they could hold all of it
    for (let i = 0; i < 4; i++) {
      env.proxy.stream(`large-${i}`, limit / 4 - Buffer.byteLength(brokenAnswerStart));
      await register(env.consul.url, `large-${i}`, 9500 + i);
    }
    await register(env.consul.url, 'small', 9400);
    env.proxy.hold('small');
    const registry = startRegistry(env.proxy, limit);
    const refused = (name: string): boolean =>
      (problemOf(registry, name) ?? '').includes('(maxRegistryBytesInFlight)');
    try {
      // the big answers hold all they may: all of the limit before; now three of them, the reserve left free
      await pollUntil(() => {
        const { held, large } = registry.bodyBytes();
        return held === limit || large === limit - limit / 4;
      }, 'the big answers to hold the budget');
      env.proxy.release('small');
      await until(
        registry,
        () => portOf(registry, 'small') === 9400 || refused('small'),
        'the small answer to be served or refused',
        60_000,
      );
      assert.equal(refused('small'), false, `the small answer was refused: ${problemOf(registry, 'small')}`);
      assert.equal(portOf(registry, 'small'), 9400);
      assert.ok(
        [0, 1, 2, 3].some((i) => refused(`large-${i}`)),
        'a big answer was refused instead',
      );
      const bytes = registry.bodyBytes();
      assert.ok(bytes.peak <= limit, `peak ${bytes.peak} bytes held, limit ${limit}`);
      assert.ok(bytes.large <= limit - limit / 4, `${bytes.large} bytes held by big answers`);
    } finally {
      env.proxy.release('small');
      await registry.stop();
    }
  });
});

/** A health answer of `count` instances of `name` on 192.0.2.x (valid, with tags and meta: about 200 bytes each). */
function healthAnswer(name: string, count: number): Buffer {
  const entries = Array.from({ length: count }, (_, i) => ({
    Node: { Node: 'node', Address: '192.0.2.200', Datacenter: 'dc1' },
    Service: {
      ID: `${name}-${i}`,
      Service: name,
      Address: `192.0.2.${(i % 250) + 1}`,
      Port: 10_000 + (i % 50_000),
      Tags: ['tier=web'],
      Meta: { protocol: 'http', zone: 'a' },
      Weights: { Passing: 1 },
    },
    Checks: [{ Status: 'passing' }],
  }));
  return Buffer.from(JSON.stringify(entries));
}

describe('ConsulRegistry parsing large answers off the event loop (real Consul behind a breaking proxy)', () => {
  const env = consulBehindProxy();

  it('L4: a health answer of 20,000 instances is parsed off the event loop: the loop turns once per chunk of 10 until it is applied', async () => {
    const count = 20_000;
    await register(env.consul.url, 'parsed', 9600);
    env.proxy.answer('parsed', healthAnswer('parsed', count));
    // from the moment the answer was written to the next query of the service (asked once the answer is applied)
    const loop = loopTurns();
    let answered = false;
    env.proxy.onAnswered((name) => {
      if (name !== 'parsed') return;
      answered = true;
      loop.start();
    });
    env.proxy.onQuery((name) => {
      if (name === 'parsed' && answered) loop.stop();
    });
    const registry = new ConsulRegistry(env.proxy.url, {
      maxBackoffMs: 300,
      limits: { maxInstancesPerService: count },
      parse: { chunkItems: 10 },
    });
    registry.start();
    try {
      const served = () => registry.services().find((s) => s.name === 'parsed')?.instances.length;
      await assertParsedOffLoop(registry, loop, () => served() === count, count, 10);
    } finally {
      loop.stop();
      await registry.stop();
      await fetch(`${env.consul.url}/v1/agent/service/deregister/parsed`, { method: 'PUT' });
    }
  });

  it('L4: an answer the parse worker cannot hold (parseHeapMiB) is a registry error naming the limit; the others are served', async () => {
    await register(env.consul.url, 'heavy', 9601);
    await register(env.consul.url, 'calm', 9602);
    // 12 MB of empty objects: four million of them do not fit in a 64 MiB heap
    env.proxy.answer('heavy', Buffer.from(`[${'{},'.repeat(4_000_000)}{}]`));
    const registry = new ConsulRegistry(env.proxy.url, {
      maxBackoffMs: 300,
      firstAnswerMs: 1000,
      // only the heap may stop this parse (near its limit a busy machine's GC takes long)
      parse: { parseHeapMiB: 64, parseTimeoutMs: 600_000 },
    });
    registry.start();
    try {
      await until(
        registry,
        () => portOf(registry, 'calm') === 9602 && /parseHeapMiB/.test(problemOf(registry, 'heavy') ?? ''),
        'calm served and heavy reported',
        60_000,
      );
      assert.match(
        problemOf(registry, 'heavy') ?? '',
        /GET \/v1\/health\/service\/heavy: parsing the answer needed more than 64 MiB, the limit \(parseHeapMiB\)/,
      );
      assert.equal(registry.status().stale, true, 'stale while the query fails');
      assert.equal(registry.status().lastError?.kind, 'limit');
      assert.equal(portOf(registry, 'heavy'), undefined);
      assert.ok(registry.parseCounts().failed >= 1);
    } finally {
      await registry.stop();
    }
  });
});
