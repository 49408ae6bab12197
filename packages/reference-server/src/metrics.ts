import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, named as Istio's pilot names them where pilot has one. */
export interface Metrics {
  readonly registry: Registry;
  /** `pilot_xds_pushes{type}`: xDS responses written. */
  readonly pushes: Counter<'type'>;
  /** `pilot_xds_push_time{type}`: seconds from a snapshot being set to its response being written. */
  readonly pushTime: Histogram<'type'>;
  /** `pilot_proxy_convergence_time`: seconds from a snapshot being set to the client's ACK of it. */
  readonly convergenceTime: Histogram<string>;
  /** `pilot_total_xds_rejects{type}`: NACKs. */
  readonly rejects: Counter<'type'>;
  /** `pilot_xds_expired_nonce{type}`: requests answering an older nonce than the latest (stale). */
  readonly expiredNonces: Counter<'type'>;
  /** `xds_server_config_reloads_total{result}`: config file changes, `applied` or `rejected`. */
  readonly configReloads: Counter<'result'>;
  /**
   * `xds_server_model_merges_total{result}`: merges of the model file and the registries, `applied` or `refused`
   * (past a model limit; the last good snapshots stay).
   */
  readonly modelMerges: Counter<'result'>;
}

/** What the gauges read when scraped. */
export interface MetricsSources {
  /** The connected clients (nodes), for `pilot_xds`. */
  readonly connectedClients: () => number;
  /** The number of errors in the config file's latest change (0 when it is valid), for `xds_server_config_errors`. */
  readonly configErrors: () => number;
  /** 1 while the latest merge of the model file and the registries is refused, else 0: `xds_server_merge_errors`. */
  readonly mergeErrors?: () => number;
  /** The server's write budget, for `xds_server_write_bytes_in_flight` and `xds_server_write_waiting_streams`. */
  readonly writeBudget: () => {
    readonly limitBytes: number;
    readonly inFlightBytes: number;
    readonly waitingStreams: number;
    /** Every unflushed response byte, stalled ones included, for `xds_server_write_unflushed_bytes`. */
    readonly unflushedBytes?: number;
  };
  /**
   * The server's streams (`XdsServer.streamStats()`), for `xds_server_pending_streams`,
   * `xds_server_streams_ended_by_limit_total{limit}`, `xds_server_unknown_type_subscriptions_total`, and the
   * subscribed names' budget (`xds_server_subscription_bytes`, `_budget_bytes`, `xds_server_subscribed_names`).
   */
  readonly streams?: () => {
    readonly pending: number;
    readonly endedByLimit: Readonly<Partial<Record<string, number>>>;
    readonly unknownTypes?: number;
    readonly subscriptions?: { readonly bytes: number; readonly names: number; readonly limitBytes: number };
  };
  /**
   * The xDS listener's connections (`XdsServer.connectionStats()`), for `xds_server_connections` and
   * `xds_server_connections_refused_total{limit}` (rule L2), `xds_server_connections_idle`,
   * `xds_server_connections_evicted_total` and `xds_server_connection_errors_total{code}`.
   */
  readonly connections?: () => {
    readonly open: number;
    readonly refused: Readonly<Partial<Record<string, number>>>;
    readonly errors?: { readonly byCode: Readonly<Record<string, number>> };
    readonly idle?: number;
    readonly evicted?: number;
  };
  /**
   * Request messages partly received (`XdsServer.partialRequestStats()`), for `xds_server_partial_request_bytes`
   * and `xds_server_partial_request_budget_bytes` (rule L2); the messages it refuses count in
   * `xds_server_streams_ended_by_limit_total{limit}`.
   */
  readonly partialRequests?: () => { readonly reservedBytes: number; readonly limitBytes: number };
}

/** Creates the metrics in a registry of their own, with Node's default process metrics. */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'pilot_xds',
    help: 'Number of xDS clients (nodes) connected to this control plane.',
    registers,
    collect() {
      this.set(sources.connectedClients());
    },
  });
  new Gauge({
    name: 'xds_server_config_errors',
    help: 'Errors in the latest change of the config file; 0 when the file is valid. The last good model is served meanwhile.',
    registers,
    collect() {
      this.set(sources.configErrors());
    },
  });
  const mergeErrors = sources.mergeErrors;
  if (mergeErrors !== undefined) {
    new Gauge({
      name: 'xds_server_merge_errors',
      help: 'With --registry: 1 while the latest merge of the config file and the registries is refused (past a model limit), else 0. The last good snapshots are served meanwhile.',
      registers,
      collect() {
        this.set(mergeErrors());
      },
    });
  }
  new Gauge({
    name: 'xds_server_write_bytes_in_flight',
    help: 'Response bytes written and not yet flushed to the socket, across all streams (bounded by the write budget).',
    registers,
    collect() {
      this.set(sources.writeBudget().inFlightBytes);
    },
  });
  new Gauge({
    name: 'xds_server_write_budget_bytes',
    help: 'The write budget: the most response bytes in flight before streams due a push take turns (--max-in-flight-mib).',
    registers,
    collect() {
      this.set(sources.writeBudget().limitBytes);
    },
  });
  new Gauge({
    name: 'xds_server_write_waiting_streams',
    help: 'Streams due a response that wait for their turn because the write budget is spent.',
    registers,
    collect() {
      this.set(sources.writeBudget().waitingStreams);
    },
  });
  new Gauge({
    name: 'xds_server_write_unflushed_bytes',
    help: 'Response bytes written and not yet flushed, including those of clients that do not read (at most one response per stream).',
    registers,
    collect() {
      this.set(sources.writeBudget().unflushedBytes ?? 0);
    },
  });
  const streams = sources.streams;
  if (streams !== undefined) {
    new Gauge({
      name: 'xds_server_pending_streams',
      help: 'xDS streams opened (headers received) whose first request was not accepted yet.',
      registers,
      collect() {
        this.set(streams().pending);
      },
    });
    new Counter({
      name: 'xds_server_streams_ended_by_limit_total',
      help: 'xDS streams ended because they went past a limit, by the limit (firstRequestTimeoutMs, maxStreamsPerConnection, maxStreamsPerNode, maxNodeIdBytes, drainTimeoutMs, ...).',
      labelNames: ['limit'],
      registers,
      collect() {
        // The server keeps the totals; the counter shows them.
        this.reset();
        for (const [limit, count] of Object.entries(streams().endedByLimit))
          if (count !== undefined) this.inc({ limit }, count);
      },
    });
    new Counter({
      name: 'xds_server_unknown_type_subscriptions_total',
      help: 'Subscriptions on ADS to types the server does not serve, answered as types with no resources (rule S15).',
      registers,
      collect() {
        this.reset();
        this.inc(streams().unknownTypes ?? 0);
      },
    });
    new Gauge({
      name: 'xds_server_subscription_bytes',
      help: 'Heap held by the names xDS streams subscribe to (2 x bytes + 40 per name), bounded by limits.maxSubscriptionBytesTotal.',
      registers,
      collect() {
        this.set(streams().subscriptions?.bytes ?? 0);
      },
    });
    new Gauge({
      name: 'xds_server_subscription_budget_bytes',
      help: 'limits.maxSubscriptionBytesTotal: the most heap the names subscribed on all streams may hold.',
      registers,
      collect() {
        this.set(streams().subscriptions?.limitBytes ?? 0);
      },
    });
    new Gauge({
      name: 'xds_server_subscribed_names',
      help: 'Names (and globs) subscribed over every xDS stream and type (the wildcard not counted).',
      registers,
      collect() {
        this.set(streams().subscriptions?.names ?? 0);
      },
    });
  }
  const connections = sources.connections;
  if (connections !== undefined) {
    new Gauge({
      name: 'xds_server_connections',
      help: 'TCP connections the xDS listener holds (TLS handshakes under way included), bounded by limits.maxConnections.',
      registers,
      collect() {
        this.set(connections().open);
      },
    });
    new Counter({
      name: 'xds_server_connections_refused_total',
      help: 'Connections to the xDS listener closed as they were accepted because they went past a limit, by the limit (maxConnections, maxConnectionsPerPeer).',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const [limit, count] of Object.entries(connections().refused))
          if (count !== undefined) this.inc({ limit }, count);
      },
    });
    new Gauge({
      name: 'xds_server_connections_idle',
      help: 'Connections to the xDS listener that have opened a stream and have none open (closed after limits.maxConnectionIdleMs).',
      registers,
      collect() {
        this.set(connections().idle ?? 0);
      },
    });
    new Counter({
      name: 'xds_server_connections_evicted_total',
      help: 'Idle connections closed to make room for a new one when limits.maxConnections was reached.',
      registers,
      collect() {
        this.reset();
        this.inc(connections().evicted ?? 0);
      },
    });
    new Counter({
      name: 'xds_server_connection_errors_total',
      help: 'xDS connections Node ended on an error (GOAWAY INTERNAL_ERROR: every stream on them ended without a status), by the error code.',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(connections().errors?.byCode ?? {}))
          this.inc({ code }, count);
      },
    });
  }
  const partialRequests = sources.partialRequests;
  if (partialRequests !== undefined) {
    new Gauge({
      name: 'xds_server_partial_request_bytes',
      help: 'Bytes announced by the request messages partly received now, across all calls (bounded by limits.maxPartialRequestBytesTotal).',
      registers,
      collect() {
        this.set(partialRequests().reservedBytes);
      },
    });
    new Gauge({
      name: 'xds_server_partial_request_budget_bytes',
      help: 'limits.maxPartialRequestBytesTotal: the most bytes request messages partly received may announce at once.',
      registers,
      collect() {
        this.set(partialRequests().limitBytes);
      },
    });
  }
  return {
    registry,
    pushes: new Counter({
      name: 'pilot_xds_pushes',
      help: 'xDS responses written, by type (cds, eds, lds, rds, ...).',
      labelNames: ['type'],
      registers,
    }),
    pushTime: new Histogram({
      name: 'pilot_xds_push_time',
      help: 'Seconds from a snapshot being set to its response being written to a connected client, by type.',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    }),
    convergenceTime: new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: "Seconds from a snapshot being set to a connected client's ACK of it.",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    }),
    rejects: new Counter({
      name: 'pilot_total_xds_rejects',
      help: 'xDS responses rejected (NACKed) by clients, by type.',
      labelNames: ['type'],
      registers,
    }),
    expiredNonces: new Counter({
      name: 'pilot_xds_expired_nonce',
      help: 'Requests answering an older nonce than the latest sent (stale), by type.',
      labelNames: ['type'],
      registers,
    }),
    configReloads: new Counter({
      name: 'xds_server_config_reloads_total',
      help: 'Changes of the config file, by result: applied or rejected.',
      labelNames: ['result'],
      registers,
    }),
    modelMerges: new Counter({
      name: 'xds_server_model_merges_total',
      help: 'With --registry: merges of the config file and the registries, by result: applied, or refused (past a model limit).',
      labelNames: ['result'],
      registers,
    }),
  };
}
