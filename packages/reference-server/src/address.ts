/** A `host:port` listening address, split. */
export interface ListenAddress {
  /** The host as written, brackets of an IPv6 literal removed. */
  readonly host: string;
  /** 0 to 65535; 0 asks the system for a free port. */
  readonly port: number;
}

/**
 * Parses `host:port` (`127.0.0.1:18000`, `[::1]:18000`, `localhost:0`). Returns an error message for anything
 * else.
 */
export function parseAddress(text: string): ListenAddress | string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (match === null) return `"${text}" is not host:port (for example 127.0.0.1:18000)`;
  const port = Number(match[3]);
  if (port > 65535) return `port ${port} in "${text}" is out of range 0..65535`;
  return { host: match[1] ?? match[2] ?? '', port };
}

/** `host:port` again, with brackets around an IPv6 literal. */
export function formatAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * True for a host that only this machine can reach: `localhost`, 127.0.0.0/8, `::1` (and 127.x as an IPv4-mapped
 * IPv6 address). Wildcards (`0.0.0.0`, `::`) and every other name are not.
 */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
