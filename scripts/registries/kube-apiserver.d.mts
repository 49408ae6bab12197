// Types of kube-apiserver.mjs, for the TypeScript tests and benchmarks that start a real kube-apiserver.

/** One kube-apiserver process. */
export interface RunningApiserver {
  /** `https://127.0.0.1:PORT`: a port this process holds, in front of the apiserver's own (fresh on every start). */
  readonly url: string;
  /** A kubeconfig file for the admin user of this apiserver. */
  readonly kubeconfig: string;
  /** Its current process id (it changes when it is started again). */
  pid(): number;
  /** Stops this apiserver only (its etcd stays). */
  stopApiserver(): Promise<void>;
  /** Starts it again behind the same URL (a port this process holds), on the same etcd; resolves when ready. */
  startApiserver(): Promise<void>;
}

/** kube-apiserver on its own etcd. */
export interface RunningKube {
  readonly kind: 'kube-apiserver';
  readonly pid: number;
  readonly url: string;
  readonly dir: string;
  readonly kubeconfig: string;
  /** The admin bearer token. */
  readonly token: string;
  /** `http://127.0.0.1:PORT` of its etcd. */
  readonly etcdUrl: string;
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  /** Another apiserver on the same etcd, stopped by {@link RunningKube.stop}. */
  addApiserver(): Promise<RunningApiserver>;
  /** Stops every apiserver, then etcd, and removes `dir`. */
  stop(): Promise<void>;
}

export declare function startKubeApiserver(options?: { timeoutMs?: number }): Promise<RunningKube>;
