import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type DataSourceSchema, type Secret, SecretSchema } from '@xds/api';

/** Where secret material comes from: inline PEM text, or a file on the client's machine. */
export type DataSourceSpec = string | { readonly filename: string };

/** A certificate and its private key (an identity). */
export interface TlsCertificateSpec {
  /** The PEM certificate chain. */
  readonly certificateChain: DataSourceSpec;
  /** The PEM private key. */
  readonly privateKey: DataSourceSpec;
}

/** A CA bundle that validates peers. */
export interface TrustedCaSpec {
  /** The PEM CA certificates. */
  readonly trustedCa: DataSourceSpec;
}

function dataSource(spec: DataSourceSpec): MessageInitShape<typeof DataSourceSchema> {
  return typeof spec === 'string'
    ? { specifier: { case: 'inlineString', value: spec } }
    : { specifier: { case: 'filename', value: spec.filename } };
}

/** An SDS Secret holding either a certificate with its key, or a CA bundle (a validation context). */
export function makeSecret(name: string, spec: TlsCertificateSpec | TrustedCaSpec): Secret {
  if ('trustedCa' in spec) {
    return create(SecretSchema, {
      name,
      type: { case: 'validationContext', value: { trustedCa: dataSource(spec.trustedCa) } },
    });
  }
  return create(SecretSchema, {
    name,
    type: {
      case: 'tlsCertificate',
      value: { certificateChain: dataSource(spec.certificateChain), privateKey: dataSource(spec.privateKey) },
    },
  });
}
