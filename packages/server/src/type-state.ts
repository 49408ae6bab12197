import type { TypeUrl } from '@xds/api';
import type { DeltaWatch, SotwWatch } from '@xds/cache';
import { cutForDisplay } from './display-cut.js';

/** Where one type of one stream stands: see {@link TypeState.status}. */
export type SyncStatus = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT_SENT';

/** The client's rejection of a response. */
export interface NackInfo {
  /** The version rejected (the one sent with the nonce answered). */
  readonly version: string;
  /** `error_detail.message`, cut to `limits.maxErrorDetailBytes` (rule L2; the cut says so). */
  readonly message: string;
  /** When the NACK arrived (ms since the epoch). */
  readonly at: number;
}

/**
 * Bytes kept of a `version_info` a client sends that is not the version the server sent (rule L2): such a version
 * is only shown (status pages, CSDS, the `ack` and `nack` events), never compared, and a client could otherwise
 * have 16 MiB kept per type for the stream's life and dumped whole on every status page.
 */
export const maxKeptVersionBytes = 256;

/** The client's `version_info` as kept: the server's own string when equal, else cut to {@link maxKeptVersionBytes}. */
export function keptVersion(version: string, sent: string | undefined): string {
  return version === sent ? sent : cutForDisplay(version, maxKeptVersionBytes);
}

/** The per-stream, per-type bookkeeping of rules S3–S5: what was sent, what was acked, what was rejected. */
export class TypeState {
  readonly typeUrl: TypeUrl;
  readonly watch: SotwWatch | DeltaWatch;
  /** The version of the latest response. */
  sentVersion: string | undefined;
  /** The nonce of the latest response (rule S3). */
  sentNonce: string | undefined;
  sentAt: number | undefined;
  /** The last version the client accepted. */
  ackedVersion: string | undefined;
  ackedAt: number | undefined;
  /** The latest NACK, cleared by the next ACK. */
  nack: NackInfo | undefined;
  /** The nonce the client answered last (ACK or NACK). */
  answeredNonce: string | undefined;
  /** Responses written. */
  responses = 0;
  /** Names and globs the subscription holds, as charged against the stream's limits (rule L2). */
  subscribedNames = 0;
  /** Their bytes, as charged (see subscription-budget.ts). */
  subscribedBytes = 0;

  constructor(typeUrl: TypeUrl, watch: SotwWatch | DeltaWatch) {
    this.typeUrl = typeUrl;
    this.watch = watch;
  }

  /**
   * NOT_SENT: nothing written yet; STALE: the latest response is not answered yet; NACKED: the client rejected
   * the latest response; SYNCED: the client accepted it.
   */
  get status(): SyncStatus {
    if (this.sentNonce === undefined) return 'NOT_SENT';
    if (this.answeredNonce !== this.sentNonce) return 'STALE';
    return this.nack === undefined ? 'SYNCED' : 'NACKED';
  }

  /** Records a written response. */
  sent(version: string, nonce: string): void {
    this.sentVersion = version;
    this.sentNonce = nonce;
    this.sentAt = Date.now();
    this.responses++;
  }

  /**
   * Records an ACK of the latest nonce. The strings sent are kept when the client's equal them (the usual ACK), not
   * the request's copies: an idle stream holds one string of each per type, not two (bench scenario 4). `version`
   * is the client's as {@link keptVersion} keeps it.
   */
  acked(version: string, nonce: string): void {
    this.ackedVersion = version === this.sentVersion ? this.sentVersion : version;
    this.ackedAt = Date.now();
    this.answeredNonce = nonce === this.sentNonce ? this.sentNonce : nonce;
    this.nack = undefined;
  }

  /**
   * Records a NACK of the latest nonce. The client's message is kept cut to `maxBytes` of UTF-8 (rule L2: a
   * 16 MiB `error_detail` must not stay for the stream's life, nor go whole to events, logs and status pages);
   * returns what was kept, for the nack event.
   */
  nacked(message: string, nonce: string, maxBytes: number): string {
    const kept = cutForDisplay(message, maxBytes);
    this.answeredNonce = nonce === this.sentNonce ? this.sentNonce : nonce;
    this.nack = { version: this.sentVersion ?? '', message: kept, at: Date.now() };
    return kept;
  }
}
