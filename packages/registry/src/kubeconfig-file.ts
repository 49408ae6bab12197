// The kubeconfig of `--registry kubernetes=FILE`, read without trusting what the path is (rule L4, audit F20): the
// client library's loadFromFile reads with readFileSync, which blocks the event loop for good on a FIFO nobody
// writes and reads a device such as /dev/zero without end. Here the file is opened without blocking, must be a
// regular file of at most 1 MiB (a kubeconfig with a few inline certificates is some KB), and is read whole.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** The largest kubeconfig read. */
export const maxKubeconfigBytes = 1024 * 1024;

/** Loads the kubeconfig at `file` (relative paths in it resolved from its folder); throws saying why it cannot. */
export function loadKubeconfig(file: string): KubeConfig {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > maxKubeconfigBytes)
      throw new Error(`${stat.size} bytes, more than the ${maxKubeconfigBytes} a kubeconfig may have`);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const config = new KubeConfig();
  config.loadFromString(text);
  config.makePathsAbsolute(dirname(file));
  return config;
}
