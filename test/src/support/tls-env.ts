// Environment for a grpc-js-xds client that reaches its xDS server over TLS with `google_default` channel
// credentials. Import it first: grpc-js reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when it loads (the file itself is
// read at the first TLS connection, so the test writes its CA there later). `google_default` also adds Google call
// credentials; a generated service-account key makes them self-signed JWTs (no token server), a project id skips
// project discovery, and the metadata server is pointed at a closed loopback port so that nothing leaves 127/8.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'xds-interop-tls-'));

/** Where grpc-js reads its default TLS roots: the test writes its CA here before the first xds channel. */
export const rootsFile = join(dir, 'roots.pem');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const serviceAccount = join(dir, 'service-account.json');
writeFileSync(
  serviceAccount,
  JSON.stringify({
    type: 'service_account',
    project_id: 'xds-interop-test',
    private_key_id: 'interop',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'interop@xds-interop-test.iam.gserviceaccount.com',
    client_id: '1',
  }),
);

process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = rootsFile;
process.env.GOOGLE_APPLICATION_CREDENTIALS = serviceAccount;
process.env.GOOGLE_CLOUD_PROJECT = 'xds-interop-test';
process.env.GCE_METADATA_HOST = '127.0.0.1:9';

/** Deletes the folder (roots, service-account key). */
export function removeTlsEnv(): void {
  rmSync(dir, { recursive: true, force: true });
}
