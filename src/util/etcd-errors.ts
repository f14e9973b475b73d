/*
 * Errors of the etcd client (config store, membership, checker election) as users read them.
 * etcd3 hands back gRPC errors as they come off the wire ("14 UNAVAILABLE: No connection
 * established. Last error: Error: connect ECONNREFUSED …"). Users see what happened instead.
 */
const ETCD_CAUSES: readonly [RegExp, string][] = [
  [/ECONNREFUSED/, 'connection refused (is etcd running on that port?)'],
  [/ENOTFOUND|EAI_AGAIN/, 'host name does not resolve'],
  [/EHOSTUNREACH|ENETUNREACH/, 'host unreachable'],
  [/ECONNRESET|EPIPE/, 'connection reset'],
  [/DEADLINE_EXCEEDED|ETIMEDOUT|deadline/i, 'no answer in time'],
  [/circuit breaker is open|BrokenCircuit/i, 'not reachable (failed just before; retried shortly)'],
  [/UNAUTHENTICATED|authentication failed|invalid auth token/i, 'authentication refused'],
  [/PERMISSION_DENIED|permission denied/i, 'permission denied'],
  [/RESOURCE_EXHAUSTED|too large|request is too large/i, 'request too large for etcd'],
  [/NO_LEADER|no leader|leader changed/i, 'the cluster has no leader (a majority of members is down?)'],
  [/UNAVAILABLE|No connection established/i, 'not reachable'],
  [/CANCELLED|client closed|ClientClosed/i, 'cancelled (the client was closing)'],
];

/** A clear phrase for an error from etcd3 / gRPC; never the raw gRPC text. */
export function describeEtcdError(e: unknown): string {
  const text = `${(e as Error)?.constructor?.name ?? ''} ${(e as Error)?.message ?? String(e)}`;
  for (const [re, phrase] of ETCD_CAUSES) if (re.test(text)) return phrase;
  // etcd's own refusals read well once the gRPC status prefix is gone ("3 INVALID_ARGUMENT: etcdserver: …").
  const m = /(?:^|\s)(?:\d+ [A-Z_]+: )?(?:etcdserver: )?([^\n]*)/.exec((e as Error)?.message ?? '');
  return m?.[1]?.trim() || 'failed';
}

/** Whether `e` came from etcd3 or its gRPC transport (as opposed to one of ours). */
export function isEtcdClientError(e: unknown): boolean {
  const name = (e as Error)?.constructor?.name ?? '';
  return /^(GRPC|Etcd|ClientRuntime|ClientClosed|BrokenCircuit|NotCampaigning|STM)/.test(name) || /^\d+ [A-Z_]+: /.test((e as Error)?.message ?? '');
}
