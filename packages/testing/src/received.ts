// Decodes the responses a test client receives, SotW and delta, into names (rule R1: the resource's own, else its
// Resource wrapper's, as for LEDS's LbEndpoint), messages, and the problems Envoy would NACK.
import { fromBinary, type Message } from '@bufbuild/protobuf';
import {
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
  type Resource,
  ResourceSchema,
  resourceType,
} from '@xds/api';
import { resourceWrapperTypeUrl, shortTypeName, unpackResource } from './codec.js';

/** What every received response records, SotW or delta. */
export interface ReceivedResponseBase {
  /**
   * The type of the response: its `type_url`, or the stream's type when a per-type stream answered with an empty
   * one.
   */
  readonly typeUrl: string;
  /** `version_info` (SotW) or `system_version_info` (delta). */
  readonly versionInfo: string;
  /** The response's nonce. */
  readonly nonce: string;
  /** The names of the decoded resources, in the order of {@link resources}. */
  readonly names: readonly string[];
  /** The names in `removed_resources` (delta); always empty for SotW. */
  readonly removed: readonly string[];
  /**
   * What the client found wrong while decoding, as Envoy would: a resource of another type, an unknown type,
   * bytes that do not parse, a name twice. With `autoAck`, a response with errors is NACKed with these messages.
   */
  readonly errors: readonly string[];
  /** When the response arrived, from `performance.now()`. */
  readonly receivedAt: number;
  /**
   * True once the client ACKed the response, false once it NACKed it, undefined while it is unanswered (with
   * `autoAck: false`, or for a type the client never subscribed to, which it ignores as Envoy does).
   */
  readonly acked: boolean | undefined;
  /** The NACK's `error_detail.message`, when the client NACKed the response. */
  readonly nackMessage?: string;
}

/** A state-of-the-world response as the client received it. */
export interface SotwReceivedResponse extends ReceivedResponseBase {
  /** Discriminates the two kinds of responses. */
  readonly protocol: 'sotw';
  /**
   * The resources, each unpacked from its `Any` through the xDS registry (and out of an
   * `envoy.service.discovery.v3.Resource` wrapper when the server wrapped it).
   */
  readonly resources: readonly Message[];
  /** The response message itself. */
  readonly raw: DiscoveryResponse;
}

/** One resource of a delta response: the wrapper's name and version, and the unpacked message. */
export interface DeltaResource {
  /** The resource name (`name`, or `resource_name.name` for xdstp names). */
  readonly name: string;
  /** The resource's version. */
  readonly version: string;
  /** The unpacked resource, or undefined when the wrapper carries none (a TTL heartbeat) or it did not decode. */
  readonly message: Message | undefined;
  /** The `envoy.service.discovery.v3.Resource` wrapper itself. */
  readonly raw: Resource;
}

/** An incremental (delta) response as the client received it. */
export interface DeltaReceivedResponse extends ReceivedResponseBase {
  /** Discriminates the two kinds of responses. */
  readonly protocol: 'delta';
  /** The resources, in their wrappers. */
  readonly resources: readonly DeltaResource[];
  /** The response message itself. */
  readonly raw: DeltaDiscoveryResponse;
}

/** A response the client received, SotW or delta; narrow it with `protocol`. */
export type ReceivedResponse = SotwReceivedResponse | DeltaReceivedResponse;

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const errors: string[] = [];
  for (const name of names) {
    if (seen.has(name)) errors.push(`resource "${name}" appears twice`);
    seen.add(name);
  }
  return errors;
}

/** The name a `Resource` wrapper gives: `name`, or `resource_name.name` for xdstp names. */
function wrapperNameOf(wrapper: Resource): string {
  return wrapper.name !== '' ? wrapper.name : (wrapper.resourceName?.name ?? '');
}

/** Decodes a SotW response of type `typeUrl` (the effective type, see {@link ReceivedResponseBase.typeUrl}). */
export function decodeSotwResponse(raw: DiscoveryResponse, typeUrl: string): SotwReceivedResponse {
  const resources: Message[] = [];
  const names: string[] = [];
  const errors: string[] = [];
  for (const any of raw.resources) {
    let inner = any;
    let wrapperName = '';
    if (any.typeUrl === resourceWrapperTypeUrl && typeUrl !== resourceWrapperTypeUrl) {
      let wrapper: Resource;
      try {
        wrapper = fromBinary(ResourceSchema, any.value);
      } catch (e) {
        errors.push(`cannot decode a Resource wrapper: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      // A wrapper without a resource is a TTL heartbeat: nothing to hold.
      if (wrapper.resource === undefined) continue;
      inner = wrapper.resource;
      wrapperName = wrapperNameOf(wrapper);
    }
    const unpacked = unpackResource(inner, typeUrl, wrapperName);
    if (!unpacked.ok) {
      errors.push(unpacked.error);
      continue;
    }
    if (unpacked.name === '' && resourceType(inner.typeUrl)?.nameOfBytes === undefined) {
      // A type whose messages carry no name (LbEndpoint) is named only by a Resource wrapper: without one the
      // client cannot tell which resource this is.
      errors.push(`a ${shortTypeName(inner.typeUrl)} resource without a name (no Resource wrapper names it)`);
      continue;
    }
    resources.push(unpacked.message);
    names.push(unpacked.name);
  }
  errors.push(...duplicates(names));
  return {
    protocol: 'sotw',
    typeUrl,
    versionInfo: raw.versionInfo,
    nonce: raw.nonce,
    resources,
    names,
    removed: [],
    errors,
    raw,
    receivedAt: performance.now(),
    acked: undefined,
  };
}

/** Decodes a delta response of type `typeUrl` (the effective type, see {@link ReceivedResponseBase.typeUrl}). */
export function decodeDeltaResponse(raw: DeltaDiscoveryResponse, typeUrl: string): DeltaReceivedResponse {
  const resources: DeltaResource[] = [];
  const errors: string[] = [];
  for (const wrapper of raw.resources) {
    const name = wrapperNameOf(wrapper);
    let message: Message | undefined;
    if (wrapper.resource !== undefined) {
      const unpacked = unpackResource(wrapper.resource, typeUrl, name);
      if (unpacked.ok) message = unpacked.message;
      else errors.push(`${name}: ${unpacked.error}`);
    }
    resources.push({ name, version: wrapper.version, message, raw: wrapper });
  }
  const names = resources.map((r) => r.name);
  errors.push(...duplicates(names));
  const removed = [...raw.removedResources, ...raw.removedResourceNames.map((n) => n.name)];
  return {
    protocol: 'delta',
    typeUrl,
    versionInfo: raw.systemVersionInfo,
    nonce: raw.nonce,
    resources,
    names,
    removed,
    errors,
    raw,
    receivedAt: performance.now(),
    acked: undefined,
  };
}

/** Records the client's answer on a response: ACK, or NACK with its message. */
export function settle(response: ReceivedResponse, nackMessage: string | undefined): void {
  const writable = response as { acked: boolean | undefined; nackMessage?: string };
  writable.acked = nackMessage === undefined;
  if (nackMessage === undefined) delete writable.nackMessage;
  else writable.nackMessage = nackMessage;
}
