// Rule L1 test helpers: a request deserializer of the server and protobuf-es's own `fromBinary` agree on bytes (the
// same message and names, or both refuse), checked on random and mutated requests with a printed seed (replay one
// with XDS_PROPERTY_SEED=<seed>). Shared by wire-readers.test.ts and wire-node-bounds.test.ts.
import assert from 'node:assert/strict';
import { clone, type DescMessage, equals, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { Code } from '@xds/api';
import { UndecodableRequest } from './codec.js';
import { Random, type RequestShape, randomRequest } from './test-wire.js';

/** The seed of this run's random requests. */
export const seed = Number(process.env.XDS_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Cases per property, and a bound on the time they may take on a busy machine (then fewer run). */
export const cases = 5000;
export const budgetMs = 20_000;

/** A request deserializer as the server builds them. */
export type Decoder<T extends DescMessage> = (bytes: Buffer) => MessageShape<T> | UndecodableRequest;

/** The names the server reads of a decoded request, by field. */
function namesOf(message: object): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const key of ['resourceNames', 'resourceNamesSubscribe', 'resourceNamesUnsubscribe'])
    if (key in message) out[key] = [...(message as Record<string, string[]>)[key]!];
  return out;
}

/**
 * What the wire pass (request-wire.ts) refuses of what protobuf-es reads leniently: groups, a known field of
 * another wire type, an error_detail field running past its message, tags over 32 bits. Only these, with this
 * message, may be refused where protobuf-es reads the request.
 */
export const notCanonical =
  /does not parse: (groups are not accepted|(error_detail )?field \d+ (has wire type \d|runs past the end)|.* runs past the end of its message|a tag is more than 32 bits|messages are nested deeper|.* is a varint of more than)/;

/** Counts of the cases by outcome, for the diagnostics. */
export const outcomes = { agreed: 0, bothRefused: 0, notCanonical: 0 };

/**
 * protobuf-es's decode as the server's wire pass leaves it: no error_detail details and no unknown fields at the
 * top level or in error_detail.
 */
export function trimmed<T extends DescMessage>(schema: T, message: MessageShape<T>): MessageShape<T> {
  const out = clone(schema, message) as MessageShape<T> & {
    $unknown?: unknown;
    errorDetail?: { details: unknown[]; $unknown?: unknown };
  };
  out.$unknown = undefined;
  if (out.errorDetail !== undefined) {
    out.errorDetail.details = [];
    out.errorDetail.$unknown = undefined;
  }
  return out;
}

/** Asserts that `decode` and protobuf-es agree on `bytes`. */
export function agree<T extends DescMessage>(
  schema: T,
  decode: Decoder<T>,
  bytes: Buffer,
  label: string,
): void {
  let expected: MessageShape<T> | undefined;
  let reason = '';
  try {
    expected = fromBinary(schema, bytes);
  } catch (error) {
    reason = String(error);
  }
  const got = decode(bytes);
  const where = `${label}, bytes ${bytes.toString('hex')}`;
  if (expected === undefined) {
    assert.ok(
      got instanceof UndecodableRequest,
      `${where}: protobuf-es refuses (${reason}), the server reads it`,
    );
    outcomes.bothRefused++;
    return;
  }
  if (got instanceof UndecodableRequest && notCanonical.test(got.message)) {
    assert.equal(got.code, Code.InvalidArgument, where);
    outcomes.notCanonical++;
    return;
  }
  assert.ok(
    !(got instanceof UndecodableRequest),
    `${where}: protobuf-es reads it, the server refuses: ${(got as UndecodableRequest).message}`,
  );
  outcomes.agreed++;
  expected = trimmed(schema, expected);
  const unknown = (got as { $unknown?: unknown[] }).$unknown;
  assert.ok(unknown === undefined || unknown.length === 0, `${where}: unknown fields kept`);
  const detail = (got as { errorDetail?: { details: unknown[] } }).errorDetail;
  assert.equal(detail?.details.length ?? 0, 0, `${where}: error_detail.details decoded`);
  assert.deepEqual(namesOf(got), namesOf(expected), `${where}: names differ`);
  assert.ok(equals(schema, got, expected), `${where}: messages differ`);
}

/** Runs {@link agree} on random and mutated requests of `shape`; returns how many ran. */
export function property<T extends DescMessage>(schema: T, decode: Decoder<T>, shape: RequestShape): number {
  const random = new Random(seed);
  const deadline = Date.now() + budgetMs;
  let run = 0;
  for (; run < cases && Date.now() < deadline; run++) {
    agree(schema, decode, randomRequest(random, shape), `seed ${seed}, case ${run}`);
  }
  return run;
}
