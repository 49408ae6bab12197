/**
 * TLS of the relay's upstream connections (`--upstream-ca`, `--upstream-cert`, `--upstream-key`): grpc-js channel
 * credentials that verify the upstream servers against a CA and, for mutual TLS, present the relay's certificate.
 * The files are read once, at start, bounded in size like every PEM file the project reads.
 */
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { maxPemFileBytes } from '@xds/server';

/** The upstream TLS flags; each a file name, undefined when not given. */
export interface UpstreamTlsFlags {
  /** The CA (PEM) the upstream servers' certificates must chain to; with it the upstreams are reached over TLS. */
  readonly upstreamCa: string | undefined;
  /** Mutual TLS: the relay's client certificate chain (PEM). */
  readonly upstreamCert: string | undefined;
  /** Mutual TLS: the private key (PEM) of {@link upstreamCert}. */
  readonly upstreamKey: string | undefined;
}

/** Usage problems of the flags, one line each. */
export function upstreamTlsProblems(flags: UpstreamTlsFlags): (string | undefined)[] {
  const empty = (name: string, value: string | undefined) =>
    value === '' ? `--${name}: the file name is empty` : undefined;
  return [
    empty('upstream-ca', flags.upstreamCa),
    empty('upstream-cert', flags.upstreamCert),
    empty('upstream-key', flags.upstreamKey),
    (flags.upstreamCert === undefined) === (flags.upstreamKey === undefined)
      ? undefined
      : '--upstream-cert and --upstream-key go together',
    flags.upstreamCert !== undefined && flags.upstreamCa === undefined
      ? '--upstream-cert needs --upstream-ca (mutual TLS is TLS first)'
      : undefined,
  ];
}

function readPem(flag: string, file: string): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new XdsError(Code.InvalidArgument, `--${flag} ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (size > maxPemFileBytes)
    throw new XdsError(
      Code.InvalidArgument,
      `--${flag} ${file} is ${size} bytes, more than the ${maxPemFileBytes} a PEM file may have`,
    );
  const bytes = readFileSync(file);
  if (!bytes.includes('-----BEGIN '))
    throw new XdsError(Code.InvalidArgument, `--${flag} ${file} holds no PEM block`);
  return bytes;
}

/**
 * The upstream channel credentials the flags ask for, or undefined (plaintext). Throws an XdsError naming the
 * flag and file when one cannot be read or the certificate and key do not make a usable pair.
 */
export function upstreamCredentials(flags: UpstreamTlsFlags): ChannelCredentials | undefined {
  if (flags.upstreamCa === undefined) return undefined;
  const ca = readPem('upstream-ca', flags.upstreamCa);
  if (flags.upstreamCert === undefined || flags.upstreamKey === undefined) return credentials.createSsl(ca);
  const cert = readPem('upstream-cert', flags.upstreamCert);
  const key = readPem('upstream-key', flags.upstreamKey);
  try {
    createSecureContext({ ca, cert, key });
  } catch (error) {
    throw new XdsError(
      Code.InvalidArgument,
      `--upstream-cert ${flags.upstreamCert} and --upstream-key ${flags.upstreamKey} are not usable together: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return credentials.createSsl(ca, key, cert);
}
