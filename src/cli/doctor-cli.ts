import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { hostChecks, type HostCheck, type HostReader } from './host-checks.js';

/** Reads a sysctl from /proc/sys, or this process's soft open-files limit for `ulimit -n`. */
const readHost: HostReader = (name) => {
  try {
    if (name === 'ulimit -n') {
      const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
      return line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    }
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8');
  } catch { return undefined; }
};

/** The checks as an aligned table, one line per setting, then the reasons for those to change. */
function table(checks: HostCheck[]): string {
  const head = { setting: 'setting', current: 'current', recommended: 'recommended', status: 'status' };
  const rows = [head, ...checks];
  const w = (k: keyof typeof head) => Math.max(...rows.map((r) => String(r[k]).length));
  const line = (r: typeof head) => `${r.setting.padEnd(w('setting'))}  ${r.current.padEnd(w('current'))}  ${r.recommended.padEnd(w('recommended'))}  ${r.status}`;
  const notes = checks.filter((c) => c.status === 'change').map((c) => `  ${c.setting}: ${c.why}`);
  return [...rows.map(line), ...(notes.length > 0 ? ['', 'worth changing:', ...notes] : [])].join('\n');
}

/** `switchyard doctor`: the host settings that matter under connection floods (docs/abuse-defence.md). */
export function registerDoctorCommand(program: Command, run: (body: () => Promise<void>) => Promise<void>): void {
  program.command('doctor')
    .description('print the host settings that matter under load and floods (SYN cookies, backlogs, open files, ports) with recommended values')
    .option('-c, --config <file>', 'also judge the open-files limit and each listener\'s backlog against this config')
    .option('--json', 'print the checks as JSON')
    .option('--strict', 'exit 1 when any setting is worth changing')
    .action((o: { config?: string; json?: boolean; strict?: boolean }) => run(async () => {
      const cfg = o.config === undefined ? undefined : await loadConfigFile(o.config);
      const checks = hostChecks(readHost, cfg?.listeners.map((l) => ({ name: l.name, backlog: l.backlog, maxConnections: l.maxConnections })));
      process.stdout.write(`${o.json ? JSON.stringify(checks, null, 2) : table(checks)}\n`);
      if (o.strict && checks.some((c) => c.status === 'change')) process.exitCode = 1;
    }));
}
