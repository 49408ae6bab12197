#!/usr/bin/env node
// Finds headless Chromium for the status-page test and runs the command after `--` with CHROMIUM_PATH set to it.
// Looks at $CHROMIUM_PATH, then the usual Linux and macOS paths, then PATH. When none is there it installs
// Debian's `chromium` with apt-get only when running as root on Debian or Ubuntu, saying so in one line; anywhere
// else it fails with one line that says what to install.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const fixed = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];
const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first Chromium found, or undefined. */
function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!executable(fromEnv)) fail(`CHROMIUM_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .flatMap((dir) => names.map((name) => join(dir, name)));
  return [...fixed, ...onPath].find(executable);
}

function fail(message) {
  console.error(`ensure-chromium: ${message}`);
  process.exit(1);
}

function debianLike() {
  if (!existsSync('/etc/os-release')) return false;
  const release = readFileSync('/etc/os-release', 'utf8');
  return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release);
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

let chromium = findChromium();
if (chromium === undefined) {
  const hint =
    'install Chromium (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) or set CHROMIUM_PATH';
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!(root && debianLike() && existsSync('/usr/bin/apt-get')))
    fail(`no Chromium found for the status-page test: ${hint}`);
  console.error(
    'ensure-chromium: no Chromium found; installing Debian package chromium with apt-get (running as root)',
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = ['-qq', '-o', 'Dpkg::Use-Pty=0'];
  if (run('apt-get', ['update', ...quiet], env) !== 0) fail(`apt-get update failed: ${hint}`);
  if (run('apt-get', ['install', '-y', ...quiet, '--no-install-recommends', 'chromium'], env) !== 0)
    fail(`apt-get install chromium failed: ${hint}`);
  chromium = findChromium();
  if (chromium === undefined) fail(`chromium is still missing after apt-get install: ${hint}`);
}

const at = process.argv.indexOf('--');
if (at === -1) {
  console.log(chromium);
} else {
  const [command, ...args] = process.argv.slice(at + 1);
  if (command === undefined) fail('nothing to run after --');
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, CHROMIUM_PATH: chromium },
  });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  process.exit(result.status ?? 1);
}
