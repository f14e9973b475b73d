import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { CLI } from '../integration/harness.js';

/*
 * The shipped deployment files (docs/deploy.md) against the code they deploy: the Kubernetes
 * config passes `switchyard validate`, its probes hit the admin listener's /healthz and /readyz,
 * its grace period outlasts the drain; the systemd unit passes `systemd-analyze verify`; the
 * Dockerfile's paths exist. (Building the image needs a Docker daemon, which the test machine
 * has not: not built here.)
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Probe { httpGet: { path: string; port: string } }
interface Container { ports: { name: string; containerPort: number }[]; livenessProbe: Probe; readinessProbe: Probe; startupProbe: Probe; args: string[] }

function kubernetes() {
  const docs = parseAllDocuments(read('deploy/kubernetes/switchyard.yaml')).map((d) => d.toJSON() as { kind: string; stringData?: Record<string, string>; spec: Record<string, unknown> });
  const config = docs.find((d) => d.kind === 'Secret')!.stringData!['switchyard.yaml'];
  const pod = (docs.find((d) => d.kind === 'Deployment')!.spec.template as { spec: { terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean }; containers: Container[] } }).spec;
  return { config, pod };
}

test('the Kubernetes config validates, and its probes and grace period fit it', () => {
  const { config, pod } = kubernetes();
  const dir = mkdtempSync(join(tmpdir(), 'swy-k8s-'));
  writeFileSync(join(dir, 'switchyard.yaml'), config);
  const v = spawnSync(process.execPath, [CLI, 'validate', '-c', join(dir, 'switchyard.yaml')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  const c = parse(config) as { admin: { address: string }; shutdown: { readinessDelay: string; drainTimeout: string }; listeners: { monitorPath?: string }[] };
  const container = pod.containers[0];
  const admin = container.ports.find((p) => p.name === 'admin')!;
  assert.equal(String(admin.containerPort), c.admin.address.split(':').pop(), 'the admin port is the config\'s');
  assert.deepEqual([container.livenessProbe.httpGet, container.readinessProbe.httpGet, container.startupProbe.httpGet],
    [{ path: '/healthz', port: 'admin' }, { path: '/readyz', port: 'admin' }, { path: '/readyz', port: 'admin' }]);
  const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);
  assert.ok(pod.terminationGracePeriodSeconds >= seconds(c.shutdown.readinessDelay) + seconds(c.shutdown.drainTimeout) + 5, 'the drain ends before SIGKILL');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(c.listeners[0].monitorPath?.startsWith('/'), 'a monitor path for the cloud load balancer');
});

test('the systemd unit passes systemd-analyze verify and runs the built CLI', () => {
  const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/systemd/switchyard.service')], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`systemd-analyze: ${r.error.message}`);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const unit = read('deploy/systemd/switchyard.service');
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/switchyard\/dist\/src\/cli\/main\.js start -c \S+ --pid-file \S+$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(unit, /^KillMode=mixed$/m, 'SIGTERM to the primary, which drains its workers');
});

test('the Dockerfile is multi-stage on node:20-slim, runs as a user, and its paths exist', () => {
  const d = read('Dockerfile');
  assert.deepEqual([...d.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]), ['node:20-slim', 'node:20-slim']);
  const final = d.slice(d.lastIndexOf('\nFROM '));
  assert.match(final, /^USER node$/m);
  for (const m of d.matchAll(/^COPY (?!--from)(\S+)/gm)) assert.ok(existsSync(join(ROOT, m[1])), `COPY ${m[1]}`);
  assert.match(d, /^ENTRYPOINT \["node", "\/opt\/switchyard\/dist\/src\/cli\/main\.js"\]$/m);
  assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'the entry point the image runs is what tsc builds');
  assert.ok(existsSync(join(ROOT, 'dashboard/index.html')), 'the dashboard the admin listener serves');
});
