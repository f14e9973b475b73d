import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { addSnapshotMetric } from './snapshot-metric.js';
import { buildCommit } from './build-info.js';
import { cpuCores, memoryBytes, networkBytesPerSecond } from './host-capacity.js';
import { CertExpiryReader } from './cert-expiry.js';

/** What the node-level gauges read. */
export interface NodeGaugesSource {
  /** Software version (package.json). */
  version: string;
  /** The config in force. */
  config(): Config;
  /** Unexpected worker exits since start (Primary.workerRestarts). */
  workerRestarts(): number;
  /** Whether the config store answers (fleet nodes); undefined: no store (a config file). */
  storeUp?(): boolean | undefined;
}

/**
 * Node-level series for alerting (deploy/prometheus/switchyard-rules.yml): build info, the
 * capacity the headroom alerts divide by (CPU cores, memory, network, connections per listener),
 * certificate expiry, worker restarts (crash loops) and the config store's reachability.
 */
export function registerNodeGauges(reg: Registry, src: NodeGaugesSource): void {
  const build = { version: src.version, node_version: process.version, commit: buildCommit() };
  const certs = new CertExpiryReader();
  const add = (name: string, help: string, type: 'counter' | 'gauge', values: () => { labels: Record<string, string>; value: number }[]) =>
    addSnapshotMetric(reg, name, help, type, values);
  add('switchyard_build_info', 'Always 1; the labels say which build runs (version, Node.js version, commit or "unknown")', 'gauge', () => [{ labels: build, value: 1 }]);
  add('switchyard_host_cpu_cores', 'CPU cores this node may use (cgroup quota or the cores it may run on): the denominator of CPU headroom', 'gauge',
    () => [{ labels: {}, value: cpuCores() }]);
  add('switchyard_host_memory_bytes', 'Memory this node may use (cgroup limit or the host\'s RAM): the denominator of memory headroom', 'gauge',
    () => [{ labels: {}, value: memoryBytes() }]);
  add('switchyard_host_network_bytes_per_second', 'Speed of the host\'s up network links together, bytes/s (no sample when the kernel reports none, e.g. in many VMs): the denominator of network headroom', 'gauge',
    () => { const b = networkBytesPerSecond(); return b === undefined ? [] : [{ labels: {}, value: b }]; });
  add('switchyard_listener_max_connections', 'Client connections a listener accepts at most (listeners[].maxConnections): the denominator of connection headroom', 'gauge',
    () => src.config().listeners.map((l) => ({ labels: { listener: l.name }, value: l.maxConnections })));
  add('switchyard_tls_certificate_expiry_timestamp_seconds', 'When each https listener certificate expires (notAfter, Unix seconds)', 'gauge',
    () => certs.read(src.config()).map((c) => ({ labels: { listener: c.listener, cert: c.cert }, value: c.notAfterS })));
  add('switchyard_worker_restarts_total', 'Workers that exited unexpectedly (crash, kill) and were respawned', 'counter',
    () => [{ labels: {}, value: src.workerRestarts() }]);
  add('switchyard_config_store_up', '1 while the config store (etcd) answers this node, 0 while it does not (the node serves its last config); no sample for a node run from a config file', 'gauge',
    () => { const up = src.storeUp?.(); return up === undefined ? [] : [{ labels: {}, value: up ? 1 : 0 }]; });
}
