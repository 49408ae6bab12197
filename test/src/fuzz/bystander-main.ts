// The bystander process: the bystander client and the two decoys, in a process of their own, so that the push
// latency it measures is the server's and not the fuzz driver's (whose event loop is busy building and sending
// hostile cases). Started by bystander-process.ts while the target starts (both load for seconds under tsx), it
// connects when told the target's address; it speaks to the driver over the IPC channel only.

import type { XdsTestClient } from '@xds/testing';
import { Bystander } from './bystander.js';
import type { FromBystander, ToBystander } from './bystander-protocol.js';
import { connectDecoys } from './decoys.js';

function send(message: FromBystander): void {
  process.send?.(message);
}

let bystander: Bystander | undefined;
let decoys: XdsTestClient[] = [];

async function connect(address: string, nodeId: string): Promise<void> {
  decoys = connectDecoys(address);
  try {
    bystander = await Bystander.connect(address, nodeId);
    send({ type: 'ready' });
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
  }
}

process.on('message', (message: ToBystander) => {
  switch (message.type) {
    case 'connect':
      void connect(message.address, message.nodeId);
      break;
    case 'stats': {
      if (bystander === undefined) break;
      const ended = bystander.ended;
      send({
        type: 'stats',
        id: message.id,
        ...bystander.stats(message.reset),
        quietMs: bystander.quietMs,
        ...(ended === undefined ? {} : { ended }),
      });
      break;
    }
    case 'converge':
      if (bystander === undefined) break;
      bystander.converge(message.version, message.timeoutMs).then(
        () => send({ type: 'converged', id: message.id }),
        (error: unknown) => send({ type: 'converged', id: message.id, error: (error as Error).message }),
      );
      break;
    case 'stop':
      void Promise.all([bystander?.close(), ...decoys.map((d) => d.close())]).finally(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'loaded' });
