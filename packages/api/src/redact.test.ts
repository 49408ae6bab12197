import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  TlsCertificateSchema,
  TlsSessionTicketKeysSchema,
} from './gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  GenericSecretSchema,
  SecretSchema,
} from './gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { UpstreamTlsContextSchema } from './gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { TypedStructSchema } from './gen/xds/type/v3/typed_struct_pb.js';
import { isSensitiveField, REDACTED, redact, redactBytes } from './redact.js';
import { xdsRegistry } from './registry.js';

const KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7TOPSECRET\n-----END PRIVATE KEY-----\n';
const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIDpublicchain\n-----END CERTIFICATE-----\n';

/** True when `haystack` holds the bytes of `needle` anywhere. */
function holds(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

function tlsCertificate() {
  return create(TlsCertificateSchema, {
    certificateChain: { specifier: { case: 'inlineString', value: CHAIN } },
    privateKey: { specifier: { case: 'inlineBytes', value: new TextEncoder().encode(KEY) } },
    password: { specifier: { case: 'inlineString', value: 'hunter2' } },
  });
}

describe('redact (rule L6)', () => {
  it('L6: the generated descriptors keep the udpa.annotations.sensitive field option', () => {
    assert.equal(isSensitiveField(TlsCertificateSchema.field.privateKey!), true);
    assert.equal(isSensitiveField(TlsCertificateSchema.field.password!), true);
    assert.equal(isSensitiveField(GenericSecretSchema.field.secret!), true);
    assert.equal(isSensitiveField(TlsCertificateSchema.field.certificateChain!), false);
    let marked = 0;
    for (const type of xdsRegistry) {
      if (type.kind === 'message') marked += type.fields.filter(isSensitiveField).length;
    }
    assert.ok(marked >= 7, `${marked} sensitive fields in the registry`);
  });

  it('L6: a Secret keeps its certificate chain and loses its private key and password', () => {
    const secret = create(SecretSchema, {
      name: 'server-cert',
      type: { case: 'tlsCertificate', value: tlsCertificate() },
    });
    const before = toBinary(SecretSchema, secret);
    const redacted = redact(SecretSchema, secret);
    assert.notEqual(redacted, secret);
    assert.deepEqual(toBinary(SecretSchema, secret), before, 'the message given is not changed');
    const cert = redacted.type.case === 'tlsCertificate' ? redacted.type.value : undefined;
    assert.equal(cert?.privateKey?.specifier.case, 'inlineBytes');
    assert.equal(new TextDecoder().decode(cert?.privateKey?.specifier.value as Uint8Array), REDACTED);
    assert.deepEqual(cert?.password?.specifier, { case: 'inlineString', value: REDACTED });
    assert.deepEqual(cert?.certificateChain?.specifier, { case: 'inlineString', value: CHAIN });
    assert.equal(holds(toBinary(SecretSchema, redacted), 'PRIVATE KEY'), false);
    assert.equal(holds(toBinary(SecretSchema, redacted), 'hunter2'), false);

    const generic = create(SecretSchema, {
      name: 'token',
      type: {
        case: 'genericSecret',
        value: { secret: { specifier: { case: 'filename', value: '/etc/token' } } },
      },
    });
    assert.match(
      JSON.stringify(toJson(SecretSchema, redact(SecretSchema, generic))),
      /"filename":"\[redacted\]"/,
    );
  });

  it('L6: redacts inside Any payloads, repeated fields, and leaves a message without secrets as it is', () => {
    const tls = create(UpstreamTlsContextSchema, {
      sni: 'backend.example',
      commonTlsContext: {
        tlsCertificates: [tlsCertificate(), tlsCertificate()],
        tlsCertificateSdsSecretConfigs: [{ name: 'by-sds' }],
      },
    });
    const cluster = create(ClusterSchema, {
      name: 'backend',
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, tls) },
      },
    });
    const bytes = toBinary(ClusterSchema, cluster);
    assert.ok(holds(bytes, KEY));
    const out = redactBytes('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes);
    assert.equal(holds(out, 'PRIVATE KEY'), false);
    const back = fromBinary(ClusterSchema, out);
    const any = back.transportSocket?.configType.value;
    const unpacked = anyUnpack(any as never, UpstreamTlsContextSchema)!;
    assert.equal(unpacked.sni, 'backend.example');
    assert.equal(unpacked.commonTlsContext?.tlsCertificates.length, 2);
    assert.equal(unpacked.commonTlsContext?.tlsCertificateSdsSecretConfigs[0]?.name, 'by-sds');
    for (const cert of unpacked.commonTlsContext?.tlsCertificates ?? [])
      assert.deepEqual(cert.certificateChain?.specifier, { case: 'inlineString', value: CHAIN });

    const keys = create(TlsSessionTicketKeysSchema, {
      keys: [
        { specifier: { case: 'inlineString', value: 'k1' } },
        { specifier: { case: 'inlineString', value: 'k2' } },
      ],
    });
    assert.deepEqual(
      redact(TlsSessionTicketKeysSchema, keys).keys.map((k) => k.specifier.value),
      [REDACTED, REDACTED],
    );

    const plain = create(ClusterSchema, { name: 'plain' });
    assert.equal(redact(ClusterSchema, plain), plain);
    const plainBytes = toBinary(ClusterSchema, plain);
    assert.equal(redactBytes('type.googleapis.com/envoy.config.cluster.v3.Cluster', plainBytes), plainBytes);
  });

  it('L6: payloads that cannot be judged are not shown: unknown Any types and TypedStructs', () => {
    const cluster = create(ClusterSchema, {
      name: 'custom',
      transportSocket: {
        name: 'custom',
        configType: {
          case: 'typedConfig',
          value: { typeUrl: 'type.googleapis.com/acme.Secret', value: new TextEncoder().encode(KEY) },
        },
      },
    });
    const out = redact(ClusterSchema, cluster);
    const any = out.transportSocket?.configType.value as { typeUrl: string; value: Uint8Array };
    assert.equal(any.typeUrl, 'type.googleapis.com/acme.Secret');
    assert.equal(any.value.length, 0);
    assert.equal(redactBytes('type.googleapis.com/acme.Unknown', new Uint8Array([1, 2, 3])).length, 0);

    // A TypedStruct of a known type is read as that type: only its sensitive fields go.
    const known = create(TypedStructSchema, {
      typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.TlsCertificate',
      value: { certificateChain: { inlineString: CHAIN }, privateKey: { inlineString: KEY } },
    });
    const knownOut = redact(TypedStructSchema, known).value;
    assert.deepEqual(knownOut, {
      certificateChain: { inlineString: CHAIN },
      privateKey: { inlineString: REDACTED },
    });
    // Of an unknown type: every leaf goes, the shape stays.
    const unknown = create(TypedStructSchema, {
      typeUrl: 'type.googleapis.com/acme.Config',
      value: { token: KEY, retries: 3, nested: { enabled: true, list: ['a'] } },
    });
    assert.deepEqual(redact(TypedStructSchema, unknown).value, {
      token: REDACTED,
      retries: 0,
      nested: { enabled: false, list: [REDACTED] },
    });
  });
});
