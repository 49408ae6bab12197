// Model texts that this package's tests save to a watched model file: one too heavy for a reader bounded by
// reloadHeapMiB (rule L2), shared by the model file's own test and the server's options test.

/**
 * A valid model of one service with 60,000 endpoints (about 3 MB of YAML): parsing it needs more than 16 MiB of
 * heap, so a reader with reloadHeapMiB 16 is stopped and the change rejected naming the limit.
 */
export function heavyModel(): string {
  const endpoints = Array.from(
    { length: 60_000 },
    (_, i) => `      - { address: 10.0.${(i >> 8) & 255}.${i & 255}, port: ${1 + (i % 60_000)} }`,
  );
  return [
    'services:',
    '  - name: big',
    '    ports: [{ name: http, port: 80 }]',
    '    endpoints:',
    ...endpoints,
    '',
  ].join('\n');
}
