/**
 * The registry locations of `--registry KIND=LOCATION`, parsed without loading any registry client (so the command
 * line answers fast and a malformed location is one line).
 */
import { parseDuration } from '@xds/generator';

/** Where an etcd registry is: `http://HOST:PORT/PREFIX`. */
export interface EtcdLocation {
  /** `HOST:PORT`. */
  readonly host: string;
  /** The key prefix without a trailing slash (`/xds`; empty for the root). */
  readonly prefix: string;
}

/** Parses `http://HOST:PORT/PREFIX`; throws a one-line message when it is not that. */
export function parseEtcdLocation(location: string): EtcdLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new Error(`etcd location "${location}" is not a URL like http://127.0.0.1:2379/xds`);
  }
  if (url.protocol !== 'http:') throw new Error(`etcd location "${location}" must use http://`);
  if (url.port === '') throw new Error(`etcd location "${location}" needs a port`);
  return { host: url.host, prefix: url.pathname.replace(/\/+$/, '') };
}

/** Where a Eureka server is: its base URL (`http://HOST:PORT/eureka`) and the delta polling interval. */
export interface EurekaLocation {
  /** The base URL without a trailing slash and without the query. */
  readonly base: string;
  /** The polling interval in milliseconds. */
  readonly intervalMs: number;
}

/** The shortest polling interval accepted. */
export const minEurekaIntervalMs = 100;

/** Parses `http://HOST:PORT/eureka[?interval=1s]`; throws a one-line message when it is not that. */
export function parseEurekaLocation(location: string): EurekaLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new Error(`eureka location "${location}" is not a URL like http://127.0.0.1:8761/eureka`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`eureka location "${location}" must use http:// or https://`);
  }
  const interval = url.searchParams.get('interval');
  let intervalMs = 30_000;
  if (interval !== null) {
    const parsed = parseDuration(interval);
    if (parsed === undefined || parsed < minEurekaIntervalMs) {
      throw new Error(
        `eureka location "${location}": interval "${interval}" must be a duration of at least ${minEurekaIntervalMs}ms`,
      );
    }
    intervalMs = parsed;
  }
  return { base: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, intervalMs };
}

/** Parses a Consul agent's `http://HOST:PORT`; throws a one-line message when it is not that. */
export function parseConsulLocation(location: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(location);
  } catch {}
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`consul location "${location}" is not a URL like http://127.0.0.1:8500`);
  }
  return url;
}
