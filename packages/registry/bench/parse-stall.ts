// Measures the event loop's longest stall (perf_hooks.monitorEventLoopDelay, max) while a registry answer is parsed
// and reduced to what the adapter keeps, on the event loop (as before the parse worker) and by the worker
// (body-parser.ts): a Kubernetes Pod page of 4 MiB and a Eureka /apps answer of 64 MiB. Run from packages/registry:
// `npx tsx bench/parse-stall.ts`. A bench, not a test: its figures depend on the machine.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BodyParser } from '../src/body-parser.js';
import type { ParseJob } from '../src/parse-jobs.js';

function podPage(bytes: number): Uint8Array {
  const items: unknown[] = [];
  let size = 0;
  for (let i = 0; size < bytes - 1024; i++) {
    const pod = {
      metadata: {
        name: `pod-${i}`,
        namespace: 'default',
        uid: 'x'.repeat(36),
        labels: { app: 'web', tier: `t${i % 10}` },
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
      },
      spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
      status: { phase: 'Running', podIP: '10.0.0.1' },
    };
    size += JSON.stringify(pod).length + 1;
    items.push(pod);
  }
  return new TextEncoder().encode(
    JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '1' }, items }),
  );
}

function eurekaApps(bytes: number): Uint8Array {
  const instance: unknown[] = [];
  let size = 0;
  for (let i = 0; size < bytes - 1024; i++) {
    const one = {
      instanceId: `i-${i}`,
      app: 'APP',
      hostName: `host-${i}`,
      ipAddr: `10.0.${(i >> 8) & 255}.${i & 255}`,
      status: 'UP',
      vipAddress: 'app.eureka',
      port: { $: 8080, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
      metadata: { zone: 'a', protocol: 'http' },
      homePageUrl: `http://host-${i}:8080/`,
      lastUpdatedTimestamp: '1700000000000',
    };
    size += JSON.stringify(one).length + 1;
    instance.push(one);
  }
  return new TextEncoder().encode(
    JSON.stringify({ applications: { application: [{ name: 'APP', instance }] } }),
  );
}

async function stall(parser: BodyParser, bytes: Uint8Array, job: ParseJob): Promise<string> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  // the loop kept busy with a timer, as a server's is
  const tick = setInterval(() => {}, 1);
  histogram.enable();
  // the histogram measures from its first sample on: a stall before it is not seen
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  const out = await parser.parse(bytes, job, 'bench');
  const wall = performance.now() - started;
  // a turn after the parse, so that a stall that ended with it is sampled
  await new Promise((resolve) => setTimeout(resolve, 20));
  histogram.disable();
  clearInterval(tick);
  return `${out.items.length} items: max stall ${(histogram.max / 1e6).toFixed(1)} ms, wall ${wall.toFixed(0)} ms`;
}

const cases: [string, () => Uint8Array, ParseJob][] = [
  [
    'Kubernetes Pod page, 4 MiB',
    () => podPage(4 * 1024 * 1024),
    { kind: 'kube-page', objects: 'pods', maxLabelBytes: 4096, maxItems: 150_000 },
  ],
  [
    'Eureka /apps, 64 MiB',
    () => eurekaApps(64 * 1024 * 1024),
    { kind: 'eureka-apps', maxInstances: 1_000_000 },
  ],
];
{
  // the stall of an idle loop meanwhile (the machine's load)
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  histogram.disable();
  console.log(`idle event loop, 2 s: max stall ${(histogram.max / 1e6).toFixed(1)} ms`);
}
for (const [name, make, job] of cases) {
  const inline = new BodyParser({ inlineParseBytes: Number.MAX_SAFE_INTEGER });
  const worker = new BodyParser();
  // a warm-up of each (the worker started, the code compiled)
  await worker.parse(make(), job, 'warm-up');
  await inline.parse(make(), job, 'warm-up');
  console.log(`${name}, on the event loop: ${await stall(inline, make(), job)}`);
  console.log(`${name}, by the parse worker: ${await stall(worker, make(), job)}`);
  await worker.close();
}
