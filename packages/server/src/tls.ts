/**
 * TLS and mutual TLS for the xDS port (and any other listener that wants it), with certificates that rotate without
 * a restart. The material comes from PEM bytes or from files; files are checked every `reloadIntervalMs`, and a
 * changed set is read whole, checked as a pair (`tls.createSecureContext`) and only then put in service, so a
 * half-written rotation (new certificate, old key) is skipped and the previous certificates stay until the files
 * agree again. New connections get the new certificates; open ones keep theirs.
 *
 * gRPC listeners take it through grpc-js's certificate-provider API ({@link ServerTls.serverCredentials});
 * HTTPS listeners through {@link ServerTls.secureContextOptions} and the `reloaded` event.
 */
import { statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { EventEmitter } from 'eventemitter3';
import { readBoundedFile } from './bounded-file.js';

/** PEM bytes as they are (a Buffer), or the path of a PEM file (a string), watched and reloaded. */
export type PemSource = Buffer | string;

/** The largest PEM file read, in bytes (1 MiB): a certificate chain or a CA bundle is far smaller. */
export const maxPemFileBytes = 1024 * 1024;

/** TLS of a listener. */
export interface TlsOptions {
  /** The server's certificate chain (PEM): bytes, or a file path that is watched and reloaded. */
  readonly cert: PemSource;
  /** The server's private key (PEM): bytes, or a file path that is watched and reloaded. */
  readonly key: PemSource;
  /**
   * CA certificates (PEM) that sign client certificates. With it, clients are asked for a certificate, and only a
   * certificate that chains to one of these counts as the client's identity.
   */
  readonly ca?: PemSource;
  /** Refuse a connection without a valid client certificate (mutual TLS). Default: true when `ca` is given. */
  readonly requireClientCert?: boolean;
  /** How often watched files are checked for changes (ms); default 1,000. */
  readonly reloadIntervalMs?: number;
}

/** One consistent set of certificates: a certificate chain, its key, and the client CAs if any. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** A reload of watched files that could not be used; the previous certificates stay in service. */
export interface TlsReloadFailure {
  /** Why, naming the file. */
  readonly message: string;
}

/** Events of a {@link ServerTls}. */
export interface ServerTlsEvents {
  /** New certificates are in service for new connections. */
  reloaded: [TlsMaterial];
  /** Changed files could not be used (unreadable, not PEM, key and certificate disagree). */
  reloadFailed: [TlsReloadFailure];
}

type Part = 'cert' | 'key' | 'ca';

/** What a file looked like at the last check: enough to see a rewrite, a rename over it or a symlink swap. */
function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
}

function readPem(part: Part, source: PemSource): Buffer {
  if (Buffer.isBuffer(source)) return source;
  // Not statSync + readFileSync: a FIFO swapped in for the file would hang the loop at the next reload (Q4).
  const read = readBoundedFile(source, maxPemFileBytes);
  if (!read.ok) throw new XdsError(Code.InvalidArgument, `TLS ${part} file ${source}: ${read.message}`);
  if (read.bytes.length > maxPemFileBytes)
    throw new XdsError(
      Code.InvalidArgument,
      `TLS ${part} file ${source} is more than the ${maxPemFileBytes} bytes a PEM file may have`,
    );
  if (!read.bytes.includes('-----BEGIN '))
    throw new XdsError(Code.InvalidArgument, `TLS ${part} file ${source} holds no PEM block`);
  return read.bytes;
}

function where(options: TlsOptions, part: Part): string {
  const source = options[part];
  return typeof source === 'string' ? `file ${source}` : 'bytes';
}

/** Reads every part and checks that they make a usable secure context. Throws an XdsError naming the part. */
function load(options: TlsOptions): TlsMaterial {
  const cert = readPem('cert', options.cert);
  const key = readPem('key', options.key);
  const ca = options.ca === undefined ? undefined : readPem('ca', options.ca);
  try {
    createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) });
  } catch (error) {
    const detail = (error as Error).message;
    throw new XdsError(
      Code.InvalidArgument,
      `TLS certificate (${where(options, 'cert')}), key (${where(options, 'key')})${ca === undefined ? '' : ` and CA (${where(options, 'ca')})`} are not usable together: ${detail}`,
      { cause: error },
    );
  }
  return { cert, key, ca };
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const sameCa = a.ca === undefined || b.ca === undefined ? a.ca === b.ca : a.ca.equals(b.ca);
  return sameCa && a.cert.equals(b.cert) && a.key.equals(b.key);
}

type Listener<T> = (update: T | null) => void;

/**
 * The certificates of a TLS listener, reloaded when their files change. Construction reads and checks them
 * (throwing an XdsError naming the file); files are then watched while something uses them (a listener is bound,
 * or {@link ServerTls.watch} was called).
 */
export class ServerTls extends EventEmitter<ServerTlsEvents> {
  readonly #options: TlsOptions;
  readonly #files: [Part, string][];
  readonly #intervalMs: number;
  #material: TlsMaterial;
  #signatures: string;
  #failedSignatures: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #users = 0;
  readonly #identityListeners = new Set<Listener<experimental.IdentityCertificateUpdate>>();
  readonly #caListeners = new Set<Listener<experimental.CaCertificateUpdate>>();
  #certificateProvider: experimental.CertificateProvider | undefined;

  constructor(options: TlsOptions) {
    super();
    if (options === undefined || options.cert === undefined || options.key === undefined)
      throw new XdsError(Code.InvalidArgument, 'TLS needs a certificate (cert) and a private key (key)');
    if (options.requireClientCert === true && options.ca === undefined)
      throw new XdsError(
        Code.InvalidArgument,
        'TLS requireClientCert needs the CA (ca) that signs client certificates',
      );
    const interval = options.reloadIntervalMs ?? 1000;
    if (!Number.isInteger(interval) || interval <= 0)
      throw new XdsError(
        Code.InvalidArgument,
        `TLS reloadIntervalMs must be a positive integer, got ${interval}`,
      );
    this.#options = options;
    this.#intervalMs = interval;
    this.#files = (['cert', 'key', 'ca'] as const)
      .map((part): [Part, PemSource | undefined] => [part, options[part]])
      .filter((entry): entry is [Part, string] => typeof entry[1] === 'string');
    this.#signatures = this.#currentSignatures();
    this.#material = load(options);
  }

  /** The certificates in service. */
  get material(): TlsMaterial {
    return this.#material;
  }

  /** Whether clients must present a certificate signed by the CA. */
  get requireClientCert(): boolean {
    return this.#options.requireClientCert ?? this.#options.ca !== undefined;
  }

  /** Whether clients are asked for a certificate at all (a CA is configured). */
  get requestClientCert(): boolean {
    return this.#options.ca !== undefined;
  }

  /** Options for `https.createServer` / `tls.createServer` and `setSecureContext` with the certificates in service. */
  secureContextOptions(): SecureContextOptions {
    const { cert, key, ca } = this.#material;
    return { cert, key, ...(ca === undefined ? {} : { ca }) };
  }

  /** grpc-js server credentials that follow this object's certificates (TLS, or mutual TLS with a CA). */
  serverCredentials(): ServerCredentials {
    return experimental.createCertificateProviderServerCredentials(
      this.#provider(),
      this.#options.ca === undefined ? null : this.#provider(),
      this.requireClientCert,
    );
  }

  /** Checks the files now instead of at the next interval; true when new certificates went into service. */
  reload(): boolean {
    const signatures = this.#currentSignatures();
    if (signatures === this.#signatures || signatures === this.#failedSignatures) return false;
    let material: TlsMaterial;
    try {
      material = load(this.#options);
    } catch (error) {
      this.#failedSignatures = signatures;
      this.emit('reloadFailed', { message: (error as Error).message });
      return false;
    }
    this.#signatures = signatures;
    this.#failedSignatures = undefined;
    if (sameMaterial(material, this.#material)) return false;
    this.#material = material;
    for (const listener of this.#identityListeners)
      listener({ certificate: material.cert, privateKey: material.key });
    if (material.ca !== undefined)
      for (const listener of this.#caListeners) listener({ caCertificate: material.ca });
    this.emit('reloaded', material);
    return true;
  }

  /** Watches the files until the returned function is called (HTTPS listeners use this; gRPC ones do it alone). */
  watch(): () => void {
    this.#use(1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#use(-1);
    };
  }

  #currentSignatures(): string {
    return this.#files.map(([part, file]) => `${part}=${signature(file)}`).join('|');
  }

  #use(delta: number): void {
    this.#users += delta;
    if (this.#users > 0 && this.#timer === undefined && this.#files.length > 0) {
      this.#timer = setInterval(() => this.reload(), this.#intervalMs);
      this.#timer.unref();
    } else if (this.#users === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** grpc-js's CertificateProvider over this object: listeners get the material in service, then every reload. */
  #provider(): experimental.CertificateProvider {
    if (this.#certificateProvider !== undefined) return this.#certificateProvider;
    const identity = this.#identityListeners;
    const cas = this.#caListeners;
    const self = this;
    this.#certificateProvider = {
      addIdentityCertificateListener(listener) {
        identity.add(listener);
        self.#use(1);
        const { cert, key } = self.#material;
        process.nextTick(listener, { certificate: cert, privateKey: key });
      },
      removeIdentityCertificateListener(listener) {
        if (identity.delete(listener)) self.#use(-1);
      },
      addCaCertificateListener(listener) {
        cas.add(listener);
        self.#use(1);
        const { ca } = self.#material;
        process.nextTick(listener, ca === undefined ? null : { caCertificate: ca });
      },
      removeCaCertificateListener(listener) {
        if (cas.delete(listener)) self.#use(-1);
      },
    };
    return this.#certificateProvider;
  }
}

/** Reads and checks the certificates of `options` (throwing an XdsError naming the file) and watches them in use. */
export function createServerTls(options: TlsOptions): ServerTls {
  return new ServerTls(options);
}
