/**
 * Snapshot bodies are generated once per scenario, written to a temporary directory, and the very same bytes
 * are read back and POSTed to each peer.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stored snapshot body. */
export interface Payload {
  readonly path: string;
  readonly bytes: number;
}

/** A temporary directory of snapshot bodies. */
export class PayloadStore {
  readonly #dir: string;
  #count = 0;

  constructor() {
    mkdirSync(tmpdir(), { recursive: true });
    this.#dir = mkdtempSync(join(tmpdir(), 'xds-bench-'));
  }

  /** Writes a body; returns where it is. */
  put(body: Uint8Array): Payload {
    const path = join(this.#dir, `${++this.#count}.bin`);
    writeFileSync(path, body);
    return { path, bytes: body.length };
  }

  /** Reads a body back. */
  read(payload: Payload): Buffer {
    return readFileSync(payload.path);
  }

  /** Deletes every body. */
  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
