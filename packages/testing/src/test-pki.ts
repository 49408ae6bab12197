/**
 * A throwaway certificate authority for TLS and mutual-TLS tests: a CA and leaf certificates (server and client,
 * with DNS, IP and URI SANs such as SPIFFE IDs), made at run time with the machine's `openssl` in a temporary
 * folder, so no private key is ever committed. EC P-256 keys, valid for one day.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM bytes. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** What a leaf certificate says. */
export interface LeafOptions {
  /** The subject common name; also the files' base name. */
  readonly name: string;
  /** DNS SANs; default none. */
  readonly dns?: readonly string[];
  /** IP SANs; default none. */
  readonly ips?: readonly string[];
  /** URI SANs (SPIFFE IDs); default none. */
  readonly uris?: readonly string[];
}

/** A CA in a temporary folder, issuing leaf certificates; {@link TestPki.remove} deletes everything. */
export interface TestPki {
  /** The folder holding every file. */
  readonly dir: string;
  /** The CA certificate (its key stays in the folder). */
  readonly ca: TestCertificate;
  /** Issues a leaf certificate (usable as server and as client) signed by this CA. */
  issue(options: LeafOptions): TestCertificate;
  /** Deletes the folder. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function read(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes a CA named `caName` in a new temporary folder. Needs `openssl` on the PATH. */
export function createTestPki(caName = 'xds-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'xds-pki-'));
  const safe = (name: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate name "${name}" must be [A-Za-z0-9._-]`);
    return name;
  };
  openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      `/CN=${safe(caName)}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  let serial = 1;
  return {
    dir,
    ca: read(dir, 'ca'),
    issue(options) {
      const name = safe(options.name);
      const sans = [
        ...(options.dns ?? []).map((d) => `DNS:${d}`),
        ...(options.ips ?? []).map((ip) => `IP:${ip}`),
        ...(options.uris ?? []).map((u) => `URI:${u}`),
      ];
      const extensions = [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      ];
      writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
      openssl(
        ['req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`],
        dir,
      );
      serial += 1;
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          String(Date.now() * 1000 + serial),
          '-days',
          '1',
          '-extfile',
          `${name}.ext`,
          '-out',
          `${name}.crt`,
        ],
        dir,
      );
      return read(dir, name);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
