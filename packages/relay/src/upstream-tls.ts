/**
 * TLS of the relay's upstream connections (`--upstream-ca`, `--upstream-cert`, `--upstream-key`): grpc-js channel
 * credentials that verify the upstream servers against a CA and, for mutual TLS, present the relay's certificate.
 * The files are read at start (a bad one stops the start, naming the flag), bounded in size like every PEM file the
 * project reads, then checked every second while a channel uses them, as the server's own certificates are
 * (`@xds/server`'s tls.ts): a changed set is read whole and checked as a pair before it goes into service, so a
 * half-written rotation keeps the previous files; a new upstream connection uses the new files, open ones keep
 * theirs.
 */
import { statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, experimental } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { maxPemFileBytes, readBoundedFile } from '@xds/server';
import { EventEmitter } from 'eventemitter3';

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
  // Bounded and non-blocking: a FIFO or a device swapped in for the file must not hang the relay (probe Q4).
  const read = readBoundedFile(file, maxPemFileBytes);
  if (!read.ok) throw new XdsError(Code.InvalidArgument, `--${flag} ${file}: ${read.message}`);
  if (read.bytes.length > maxPemFileBytes)
    throw new XdsError(
      Code.InvalidArgument,
      `--${flag} ${file} is more than the ${maxPemFileBytes} bytes a PEM file may have`,
    );
  if (!read.bytes.includes('-----BEGIN '))
    throw new XdsError(Code.InvalidArgument, `--${flag} ${file} holds no PEM block`);
  return read.bytes;
}

/** One consistent set of upstream TLS files: the CA, and the relay's certificate and key for mutual TLS. */
interface UpstreamMaterial {
  readonly ca: Buffer;
  readonly identity: { readonly cert: Buffer; readonly key: Buffer } | undefined;
}

function load(flags: UpstreamTlsFlags & { readonly upstreamCa: string }): UpstreamMaterial {
  const ca = readPem('upstream-ca', flags.upstreamCa);
  if (flags.upstreamCert === undefined || flags.upstreamKey === undefined) return { ca, identity: undefined };
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
  return { ca, identity: { cert, key } };
}

function sameMaterial(a: UpstreamMaterial, b: UpstreamMaterial): boolean {
  if (!a.ca.equals(b.ca)) return false;
  if (a.identity === undefined || b.identity === undefined) return a.identity === b.identity;
  return a.identity.cert.equals(b.identity.cert) && a.identity.key.equals(b.identity.key);
}

/** What a file looked like at the last check: enough to see a rewrite, a rename over it or a symlink swap. */
function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
}

/** Events of {@link UpstreamTls}. */
export interface UpstreamTlsEvents {
  /** New files are in service: the next upstream connection uses them. */
  reloaded: [];
  /** Changed files could not be used (unreadable, not PEM, certificate and key disagree); the previous ones stay. */
  reloadFailed: [{ readonly message: string }];
}

type Listener<T> = (update: T | null) => void;

/**
 * The upstream TLS files, reloaded when they change. Construction reads and checks them (throwing an XdsError that
 * names the flag and file); they are checked again every `reloadIntervalMs` while a channel uses them.
 */
export class UpstreamTls extends EventEmitter<UpstreamTlsEvents> {
  readonly #flags: UpstreamTlsFlags & { readonly upstreamCa: string };
  readonly #files: string[];
  readonly #intervalMs: number;
  #material: UpstreamMaterial;
  #signatures: string;
  #failedSignatures: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #users = 0;
  readonly #caListeners = new Set<Listener<experimental.CaCertificateUpdate>>();
  readonly #identityListeners = new Set<Listener<experimental.IdentityCertificateUpdate>>();
  #credentials: ChannelCredentials | undefined;

  /** @param options.reloadIntervalMs how often the files are checked while in use (ms); default 1,000. */
  constructor(
    flags: UpstreamTlsFlags & { readonly upstreamCa: string },
    options: { readonly reloadIntervalMs?: number } = {},
  ) {
    super();
    this.#flags = flags;
    this.#intervalMs = options.reloadIntervalMs ?? 1000;
    this.#files = [flags.upstreamCa, flags.upstreamCert, flags.upstreamKey].filter(
      (file): file is string => file !== undefined,
    );
    this.#signatures = this.#currentSignatures();
    this.#material = load(flags);
  }

  /** Whether the relay presents a certificate (mutual TLS). */
  get mutual(): boolean {
    return this.#material.identity !== undefined;
  }

  /** grpc-js channel credentials that follow the files: each new connection uses the files in service. */
  credentials(): ChannelCredentials {
    if (this.#credentials === undefined) {
      const provider = this.#provider();
      this.#credentials = experimental.createCertificateProviderChannelCredentials(
        provider,
        this.#flags.upstreamCert === undefined ? null : provider,
      );
    }
    return this.#credentials;
  }

  /** Checks the files now instead of at the next interval; true when new files went into service. */
  reload(): boolean {
    const signatures = this.#currentSignatures();
    if (signatures === this.#signatures || signatures === this.#failedSignatures) return false;
    let material: UpstreamMaterial;
    try {
      material = load(this.#flags);
    } catch (error) {
      this.#failedSignatures = signatures;
      this.emit('reloadFailed', { message: (error as Error).message });
      return false;
    }
    this.#signatures = signatures;
    this.#failedSignatures = undefined;
    if (sameMaterial(material, this.#material)) return false;
    this.#material = material;
    for (const listener of this.#caListeners) listener({ caCertificate: material.ca });
    const identity = material.identity;
    if (identity !== undefined)
      for (const listener of this.#identityListeners)
        listener({ certificate: identity.cert, privateKey: identity.key });
    this.emit('reloaded');
    return true;
  }

  #currentSignatures(): string {
    return this.#files.map((file) => signature(file)).join('|');
  }

  #use(delta: number): void {
    this.#users += delta;
    if (this.#users > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.reload(), this.#intervalMs);
      this.#timer.unref();
    } else if (this.#users === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** grpc-js's CertificateProvider over this object: listeners get the files in service, then every reload. */
  #provider(): experimental.CertificateProvider {
    const cas = this.#caListeners;
    const identities = this.#identityListeners;
    const use = (delta: number) => this.#use(delta);
    const material = () => this.#material;
    return {
      addCaCertificateListener(listener) {
        cas.add(listener);
        use(1);
        process.nextTick(listener, { caCertificate: material().ca });
      },
      removeCaCertificateListener(listener) {
        if (cas.delete(listener)) use(-1);
      },
      addIdentityCertificateListener(listener) {
        identities.add(listener);
        use(1);
        const identity = material().identity;
        process.nextTick(
          listener,
          identity === undefined ? null : { certificate: identity.cert, privateKey: identity.key },
        );
      },
      removeIdentityCertificateListener(listener) {
        if (identities.delete(listener)) use(-1);
      },
    };
  }
}

/**
 * The upstream TLS the flags ask for, or undefined (plaintext). Throws an XdsError naming the flag and file when
 * one cannot be read or the certificate and key do not make a usable pair.
 */
export function upstreamTls(
  flags: UpstreamTlsFlags,
  options: { readonly reloadIntervalMs?: number } = {},
): UpstreamTls | undefined {
  const ca = flags.upstreamCa;
  return ca === undefined ? undefined : new UpstreamTls({ ...flags, upstreamCa: ca }, options);
}

/** The channel credentials of {@link upstreamTls}, or undefined (plaintext); files reloaded as they change. */
export function upstreamCredentials(flags: UpstreamTlsFlags): ChannelCredentials | undefined {
  return upstreamTls(flags)?.credentials();
}
