#!/usr/bin/env node
// Generates src/gen/ (git-ignored) from the .proto files that the @grpc/grpc-js-xds package ships in deps/.
// 1. copies those protos into proto/.deps/ (git-ignored);
// 2. adds `ignore_empty` to validate.StringRules when the shipped validate.proto lacks it (it is older than the
//    Envoy protos beside it, and protoc rejects the unknown option otherwise);
// 3. runs `buf generate` with protoc-gen-es for the closure of the roots below;
// 4. writes src/gen/files.ts, the list of every generated file descriptor (for the registry).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(pkg, '..', '..', 'proto');
const depsOut = join(protoDir, '.deps');
const genOut = join(pkg, 'src', 'gen');

/** The protos we use; `buf generate` adds everything they import. */
const roots = [
  // discovery services
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/endpoint/v3/leds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/service/route/v3/srds.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/service/runtime/v3/rtds.proto',
  'envoy/service/extension/v3/config_discovery.proto',
  'envoy/service/status/v3/csds.proto',
  'envoy/service/load_stats/v3/lrs.proto',
  // resources
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/route/v3/scoped_route.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/service/runtime/v3/rtds.proto',
  // extensions
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'envoy/extensions/load_balancing_policies/pick_first/v3/pick_first.proto',
  'envoy/extensions/load_balancing_policies/client_side_weighted_round_robin/v3/client_side_weighted_round_robin.proto',
  'xds/type/v3/typed_struct.proto',
  'udpa/type/v1/typed_struct.proto',
];

/** Which deps/ folder holds a root. */
function moduleOf(path) {
  return path.startsWith('envoy/') ? 'envoy-api' : 'xds';
}

const require = createRequire(import.meta.url);
const shipped = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

rmSync(depsOut, { recursive: true, force: true });
mkdirSync(depsOut, { recursive: true });
for (const dir of ['envoy-api', 'xds', 'googleapis'])
  cpSync(join(shipped, dir), join(depsOut, dir), { recursive: true });
cpSync(join(shipped, 'protoc-gen-validate', 'validate'), join(depsOut, 'protoc-gen-validate', 'validate'), {
  recursive: true,
});

const validate = join(depsOut, 'protoc-gen-validate', 'validate', 'validate.proto');
const text = readFileSync(validate, 'utf8');
if (!/\bignore_empty\b/.test(text)) {
  const patched = text.replace(
    /message StringRules \{\r?\n/,
    'message StringRules {\n    // Added by @xds/api: newer Envoy protos set it.\n    optional bool ignore_empty = 26;\n',
  );
  if (patched === text)
    throw new Error(`${validate}: message StringRules not found; cannot add ignore_empty`);
  writeFileSync(validate, patched);
}

rmSync(genOut, { recursive: true, force: true });
const bins = [join(pkg, 'node_modules', '.bin'), join(pkg, '..', '..', 'node_modules', '.bin')];
for (const root of roots) {
  if (!existsSync(join(depsOut, moduleOf(root), root))) throw new Error(`proto root ${root} is not shipped`);
}
const args = ['generate', '--template', 'buf.gen.yaml'];
for (const root of new Set(roots)) args.push('--path', `.deps/${moduleOf(root)}/${root}`);
const result = spawnSync('buf', args, {
  cwd: protoDir,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bins.join(delimiter)}${delimiter}${process.env.PATH ?? ''}` },
});
if (result.error) throw result.error;
if (result.status !== 0) process.exit(result.status ?? 1);

/** Lists the generated *_pb.ts files below a folder. */
function generated(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return generated(path);
    return entry.name.endsWith('_pb.ts') ? [path] : [];
  });
}

const lines = [
  '// Generated by scripts/generate.mjs: every generated file descriptor.',
  "import type { GenFile } from '@bufbuild/protobuf/codegenv2';",
];
const names = [];
for (const file of generated(genOut).sort()) {
  const source = readFileSync(file, 'utf8');
  const name = /export const (file_\w+): GenFile/.exec(source)?.[1];
  if (!name) throw new Error(`${file}: no file descriptor export`);
  const spec = `./${relative(genOut, file).replace(/\\/g, '/').replace(/\.ts$/, '.js')}`;
  lines.push(`import { ${name} } from '${spec}';`);
  names.push(name);
}
lines.push(
  '',
  '/** Every file descriptor generated into src/gen. */',
  `export const allFiles: readonly GenFile[] = [\n  ${names.join(',\n  ')},\n];`,
  '',
);
writeFileSync(join(genOut, 'files.ts'), lines.join('\n'));
