// The library's keepalive defaults, beside the S12 drain rule they must not undercut: a keepalive ping waits behind
// the bytes queued for its connection, so a timeout shorter than limits.drainTimeoutMs drops a slow reader that S12
// lets catch up (85 of 100 connections lost at load 45 with 30 s / 10 s). The relay's downstream XdsServer and any
// application that leaves `keepalive` unset get these.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnapshotCache } from '@xds/cache';
import { resolveLimits } from './limits.js';
import { grpcServerOptions } from './options.js';

describe('keepalive defaults', () => {
  it('S12: the ping timeout is above the drain time; the ping comes every 2 minutes', () => {
    const limits = resolveLimits(undefined);
    const options = grpcServerOptions({ cache: new SnapshotCache() }, limits);
    assert.equal(options['grpc.keepalive_time_ms'], 120_000);
    assert.ok(
      (options['grpc.keepalive_timeout_ms'] ?? 0) > limits.drainTimeoutMs,
      `keepalive timeout ${options['grpc.keepalive_timeout_ms']} ms, drain ${limits.drainTimeoutMs} ms`,
    );
  });

  it('takes the given keepalive as is', () => {
    const options = grpcServerOptions(
      { cache: new SnapshotCache(), keepalive: { timeMs: 5_000, timeoutMs: 2_000 } },
      resolveLimits(undefined),
    );
    assert.equal(options['grpc.keepalive_time_ms'], 5_000);
    assert.equal(options['grpc.keepalive_timeout_ms'], 2_000);
  });
});
