import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type CommonTlsContext,
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
  SdsSecretConfigSchema,
  type TransportSocket,
  TransportSocketSchema,
  UpstreamTlsContextSchema,
} from '@xds/api';
import { adsConfigSource } from './common.js';
import { TransportSocketName } from './well-known.js';

/** TLS whose certificate and CA come from SDS secrets over ADS (see `makeSecret`). */
export interface TlsSecretsSpec {
  /** The SDS secret holding this side's certificate and key. */
  readonly certificateSecret?: string;
  /** The SDS secret holding the CA bundle that validates the peer. */
  readonly validationSecret?: string;
}

/** Upstream TLS (a cluster talking to its endpoints). */
export interface UpstreamTlsSpec extends TlsSecretsSpec {
  /** The SNI to present to the upstream. */
  readonly sni?: string;
}

/** Downstream TLS (a listener's filter chain accepting connections). */
export interface DownstreamTlsSpec extends TlsSecretsSpec {
  /** True to require and validate a client certificate (mTLS); needs `validationSecret`. */
  readonly requireClientCertificate?: boolean;
}

function commonTls(spec: TlsSecretsSpec): CommonTlsContext {
  const common = create(CommonTlsContextSchema);
  if (spec.certificateSecret !== undefined) {
    common.tlsCertificateSdsSecretConfigs = [
      create(SdsSecretConfigSchema, { name: spec.certificateSecret, sdsConfig: adsConfigSource() }),
    ];
  }
  if (spec.validationSecret !== undefined) {
    common.validationContextType = {
      case: 'validationContextSdsSecretConfig',
      value: create(SdsSecretConfigSchema, { name: spec.validationSecret, sdsConfig: adsConfigSource() }),
    };
  }
  return common;
}

/** A TLS transport socket for a cluster: `UpstreamTlsContext` with SDS secrets over ADS. */
export function makeUpstreamTlsTransportSocket(spec: UpstreamTlsSpec): TransportSocket {
  const context = create(UpstreamTlsContextSchema, {
    sni: spec.sni ?? '',
    commonTlsContext: commonTls(spec),
  });
  return create(TransportSocketSchema, {
    name: TransportSocketName.Tls,
    configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, context) },
  });
}

/**
 * A TLS transport socket for a listener's filter chain: `DownstreamTlsContext` with SDS secrets over ADS.
 * Throws when a client certificate is required but no CA validates it.
 */
export function makeDownstreamTlsTransportSocket(spec: DownstreamTlsSpec): TransportSocket {
  if (spec.certificateSecret === undefined) {
    throw new TypeError('downstream TLS needs certificateSecret: the listener must present a certificate');
  }
  if (spec.requireClientCertificate === true && spec.validationSecret === undefined) {
    throw new TypeError('requireClientCertificate needs validationSecret: the CA that validates clients');
  }
  const context = create(DownstreamTlsContextSchema, {
    commonTlsContext: commonTls(spec),
    ...(spec.requireClientCertificate === true ? { requireClientCertificate: true } : {}),
  });
  return create(TransportSocketSchema, {
    name: TransportSocketName.Tls,
    configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, context) },
  });
}
