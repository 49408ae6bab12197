#!/usr/bin/env node
// Makes sure headless Chromium is there for the status-page test: Debian's `chromium` package, installed with
// apt-get when missing. Quick and silent when it is already installed; fails loudly when it cannot install it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function found() {
  return candidates.some((path) => existsSync(path));
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(`ensure-chromium: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`ensure-chromium: ${command} ${args.join(' ')} exited with ${result.status}`);
    process.exit(1);
  }
}

if (!found()) {
  console.error('ensure-chromium: installing Debian package chromium for the status-page test');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  if (!found()) {
    console.error('ensure-chromium: chromium is still missing after apt-get install');
    process.exit(1);
  }
}
