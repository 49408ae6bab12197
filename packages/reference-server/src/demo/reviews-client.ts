// A proxyless gRPC client in a process of its own (the xDS bootstrap is global to a process): it calls
// `demo.Reviews/Which` on an xds:/// target again and again and prints each result as a JSON line:
// {"ok":true,"version":"v1"} or {"ok":false,"code":14,"details":"..."}. The parent sets
// GRPC_XDS_BOOTSTRAP_CONFIG. It stops after --duration-ms, or when its stdin closes (the parent went away).
// Usage: node --import tsx reviews-client.ts TARGET [INTERVAL_MS] [DURATION_MS]
import { parseArgs } from 'node:util';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';
import { reviewsService } from './reviews-backend.js';

const { positionals } = parseArgs({ allowPositionals: true, strict: true });
const [target = 'xds:///reviews.default.svc.cluster.local:9080', interval = '50', duration = '60000'] =
  positionals;

register();
const Client = makeGenericClientConstructor(reviewsService, 'Reviews');
const client = new Client(target, credentials.createInsecure());
const print = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);

let stopped = false;
const stop = () => {
  if (stopped) return;
  stopped = true;
  client.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
setTimeout(stop, Number(duration)).unref();

const call = () => {
  if (stopped) return;
  const started = Date.now();
  client.makeUnaryRequest(
    '/demo.Reviews/Which',
    (value: Buffer) => value,
    (bytes: Buffer) => bytes,
    Buffer.alloc(0),
    { deadline: Date.now() + 10_000 },
    (error: ServiceError | null, value?: Buffer) => {
      if (error) print({ ok: false, code: error.code, details: error.details, ms: Date.now() - started });
      else {
        const answer = JSON.parse((value ?? Buffer.alloc(0)).toString('utf8')) as { version: string };
        print({ ok: true, version: answer.version, ms: Date.now() - started });
      }
      setTimeout(call, Number(interval));
    },
  );
};
call();
