// The bystander process: the bystander client and the two decoys, in a process of their own, so that the push
// latency it measures is the server's and not the fuzz driver's (whose event loop is busy building and sending
// hostile cases). Started by bystander-process.ts; it speaks to the driver over the IPC channel only.
import { Bystander } from './bystander.js';
import type { FromBystander, ToBystander } from './bystander-protocol.js';
import { connectDecoys } from './decoys.js';

const [address = '', nodeId = ''] = process.argv.slice(2);

function send(message: FromBystander): void {
  process.send?.(message);
}

const decoys = connectDecoys(address);
let bystander: Bystander;
try {
  bystander = await Bystander.connect(address, nodeId);
} catch (error) {
  send({ type: 'failed', message: (error as Error).message });
  process.exit(1);
}

process.on('message', (message: ToBystander) => {
  switch (message.type) {
    case 'stats': {
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
      bystander.converge(message.version, message.timeoutMs).then(
        () => send({ type: 'converged', id: message.id }),
        (error: unknown) => send({ type: 'converged', id: message.id, error: (error as Error).message }),
      );
      break;
    case 'stop':
      void Promise.all([bystander.close(), ...decoys.map((d) => d.close())]).finally(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
