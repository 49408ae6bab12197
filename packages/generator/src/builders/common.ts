import { create } from '@bufbuild/protobuf';
import { type Duration, DurationSchema } from '@bufbuild/protobuf/wkt';
import { type Address, AddressSchema, ApiVersion, type ConfigSource, ConfigSourceSchema } from '@xds/api';

/** A config source that says "over the ADS stream this client already has" (what gRPC clients require). */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    resourceApiVersion: ApiVersion.V3,
    configSourceSpecifier: { case: 'ads', value: {} },
  });
}

/** A `google.protobuf.Duration` from milliseconds (rounded to whole milliseconds; negative becomes zero). */
export function durationFromMs(ms: number): Duration {
  const whole = Math.max(0, Math.round(ms));
  return create(DurationSchema, { seconds: BigInt(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1e6 });
}

/** A TCP socket address with a numeric port (`port_value`), as Envoy and gRPC clients expect for endpoints. */
export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, {
    address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } },
  });
}
