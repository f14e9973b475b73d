// PowerDNS (pdns_server, bind backend, LUA records on) serving one zone from a temp dir: the
// side-by-side peer of Switchyard's GeoDNS in bench/geodns-failover.mjs and bench/dns-qps.mjs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Writes named.conf, the zone (SOA, NS, ns1 glue, then `records` lines) and pdns.conf into
// `dir`; returns the pdns_server arguments that run it on 127.0.0.1:port in the foreground.
export function powerdnsZone(dir, { zone, port, ttl = 30, records }) {
  writeFileSync(join(dir, 'named.conf'), `zone "${zone}" { type master; file "${join(dir, 'zone')}"; };\n`);
  writeFileSync(join(dir, 'zone'), [
    `$ORIGIN ${zone}.`, `$TTL ${ttl}`, `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 900 604800 ${ttl}`, `@ IN NS ns1.${zone}.`, 'ns1 IN A 127.0.0.1',
    ...records, '',
  ].join('\n'));
  writeFileSync(join(dir, 'pdns.conf'), [
    'launch=bind', `bind-config=${join(dir, 'named.conf')}`, 'local-address=127.0.0.1', `local-port=${port}`, `socket-dir=${dir}`,
    'daemon=no', 'guardian=no', 'disable-syslog=yes', 'enable-lua-records=yes', 'edns-subnet-processing=yes', 'loglevel=3', '',
  ].join('\n'));
  return [`--config-dir=${dir}`];
}
