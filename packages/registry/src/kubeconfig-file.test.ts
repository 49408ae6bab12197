// Rule L4 (audit F20): the kubeconfig of a Kubernetes registry is read without blocking and within a bound. A FIFO
// nobody writes used to block the event loop for good at start (the library's readFileSync); a device or a huge
// file was read without end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadKubeconfig, maxKubeconfigBytes } from './kubeconfig-file.js';
import { KubernetesRegistry } from './kubernetes.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:6443", certificate-authority: certs/ca.pem }
users:
- name: u
  user: { token: a-token }
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`;

describe('kubeconfig file (rule L4)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a kubeconfig and resolves its relative paths from its folder, as the library does', () => {
    const file = join(dir, 'ok', 'config');
    mkdirSync(join(dir, 'ok'));
    writeFileSync(file, kubeconfig);
    const config = loadKubeconfig(file);
    assert.equal(config.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(config.getCurrentCluster()?.caFile, join(dir, 'ok', 'certs', 'ca.pem'));
  });

  it('L4: a FIFO is refused at once (it blocked the event loop before), and so are a device and a huge file', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => loadKubeconfig(fifo), /not a regular file/);
    assert.throws(() => loadKubeconfig('/dev/zero'), /not a regular file/);
    const huge = join(dir, 'huge');
    writeFileSync(huge, Buffer.alloc(maxKubeconfigBytes + 1, 0x20));
    assert.throws(() => loadKubeconfig(huge), /1048577 bytes, more than the 1048576 a kubeconfig may have/);
  });

  it('L4: a registry given a FIFO reports the kubeconfig problem instead of hanging at start', async () => {
    const fifo = join(dir, 'fifo-registry');
    execFileSync('mkfifo', [fifo]);
    const registry = new KubernetesRegistry(fifo);
    registry.start();
    try {
      const status = registry.status();
      assert.equal(status.synced, false);
      assert.match(status.lastError?.message ?? '', /kubeconfig .*fifo-registry: not a regular file/);
    } finally {
      await registry.stop();
    }
  });
});
