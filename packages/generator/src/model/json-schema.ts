import { durationPattern } from './duration.js';
import { protocols } from './protocol.js';

/** The part of JSON Schema (draft-07) that the service model's schema uses. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
}

const dnsLabel: JsonSchema = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
};
const ip: JsonSchema = { type: 'string', description: 'An IPv4 or IPv6 literal.', examples: ['10.96.88.7'] };
const labels: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
const duration: JsonSchema = { type: 'string', pattern: durationPattern, examples: ['2s', '150ms', '1m30s'] };

/**
 * The JSON Schema (draft-07) of the service model, for editors (YAML and JSON language servers) and for the
 * structural half of {@link validateModel}. The file `schema/service-model.schema.json` holds the same object.
 */
export const modelJsonSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'xDS service model',
  description:
    'Services, their ports, endpoints, subsets and routes, from which @xds/generator builds xDS resources.',
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  properties: {
    domain: {
      type: 'string',
      description: 'The cluster domain that ends every service host name.',
      default: 'cluster.local',
    },
    services: { type: 'array', items: { $ref: '#/definitions/service' } },
  },
  definitions: {
    service: {
      type: 'object',
      description: 'A service: reachable as <name>.<namespace>.svc.<domain>:<port>.',
      required: ['name', 'ports'],
      additionalProperties: false,
      properties: {
        name: { ...dnsLabel, description: 'The service name (a DNS label).' },
        namespace: { ...dnsLabel, description: 'The namespace (a DNS label).', default: 'default' },
        addresses: { type: 'array', description: 'Virtual IPs of the service.', items: ip },
        ports: { type: 'array', minItems: 1, items: { $ref: '#/definitions/port' } },
        endpoints: { type: 'array', items: { $ref: '#/definitions/endpoint' } },
        subsets: { type: 'array', items: { $ref: '#/definitions/subset' } },
        routes: {
          type: 'array',
          description:
            'Routes of the HTTP ports, first match wins; default: everything to the whole service.',
          items: { $ref: '#/definitions/route' },
        },
      },
    },
    port: {
      type: 'object',
      required: ['port'],
      additionalProperties: false,
      properties: {
        name: {
          type: 'string',
          description: 'The port name; its prefix gives the protocol when none is set.',
        },
        port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The port number clients use.' },
        protocol: {
          type: 'string',
          enum: protocols,
          description: 'The protocol; default from the name prefix (http-, grpc-, …), else TCP.',
        },
      },
    },
    endpoint: {
      type: 'object',
      required: ['address'],
      additionalProperties: false,
      properties: {
        address: ip,
        port: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          description: 'The port on the endpoint; default: the service port number.',
        },
        ports: {
          type: 'object',
          description: 'The port on the endpoint by service port name (multi-port services).',
          additionalProperties: { type: 'integer', minimum: 1, maximum: 65535 },
        },
        labels: { ...labels, description: 'Labels that subsets select on.' },
        locality: { $ref: '#/definitions/locality' },
        weight: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
        healthy: { type: 'boolean', default: true },
        priority: {
          type: 'integer',
          minimum: 0,
          maximum: 100,
          default: 0,
          description: 'Failover priority, 0 first.',
        },
      },
    },
    locality: {
      type: 'object',
      additionalProperties: false,
      properties: { region: { type: 'string' }, zone: { type: 'string' }, subZone: { type: 'string' } },
    },
    subset: {
      type: 'object',
      required: ['name', 'labels'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        labels: { ...labels, description: 'An endpoint is in the subset when it has all these labels.' },
      },
    },
    route: {
      type: 'object',
      required: ['to'],
      additionalProperties: false,
      properties: {
        match: { $ref: '#/definitions/match' },
        to: { type: 'array', minItems: 1, items: { $ref: '#/definitions/destination' } },
        timeout: { ...duration, description: 'The request timeout.' },
        retries: { $ref: '#/definitions/retries' },
      },
    },
    match: {
      type: 'object',
      description: 'One of prefix and path (default prefix /), and header conditions.',
      additionalProperties: false,
      properties: {
        prefix: { type: 'string' },
        path: { type: 'string' },
        headers: { type: 'object', additionalProperties: { $ref: '#/definitions/headerMatch' } },
      },
    },
    headerMatch: {
      type: 'object',
      description: 'Exactly one condition.',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: {
        exact: { type: 'string' },
        prefix: { type: 'string' },
        suffix: { type: 'string' },
        regex: { type: 'string', description: 'An RE2 expression that the whole value matches.' },
        present: { type: 'boolean' },
      },
    },
    destination: {
      type: 'object',
      additionalProperties: false,
      properties: {
        subset: { type: 'string', description: 'A subset of the service; absent for the whole service.' },
        weight: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1 },
      },
    },
    retries: {
      type: 'object',
      required: ['attempts'],
      additionalProperties: false,
      properties: {
        attempts: { type: 'integer', minimum: 1, maximum: 100 },
        perTryTimeout: duration,
        retryOn: { type: 'string', description: "Envoy's retry_on conditions." },
      },
    },
  },
};
