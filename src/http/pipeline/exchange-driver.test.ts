import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot } from '../../snapshot/snapshot.js';
import { validateConfig } from '../../config/load.js';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { Service } from '../../upstream/service.js';
import type { RoutedRequest } from '../proxy.js';
import type { ProxyErrorCode } from '../error-response.js';
import type { DegradedAnswer } from '../degrade.js';
import { ExchangeDriver, type BackupTry } from './exchange-driver.js';

/*
 * The exchange driver (pipeline stages 4–7) against a fake transport: what it asks the transport
 * to do — tries, backups, verdicts, answers — for each upstream event, with real services (real
 * balancer, breaker, retry budget) and a manual clock. No sockets.
 */

const clock = new ManualClock(1000);

function service(extra: Record<string, unknown> = {}, routes: Record<string, unknown>[] = [{ service: 'app' }]): Service {
  const config = validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }],
    routes,
    services: {
      app: {
        balancer: { algorithm: 'round-robin' },
        backends: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002' }, { address: '127.0.0.1:9003' }],
        retries: { baseDelay: '0ms', maxBufferedBody: 16 },
        ...extra,
      },
    },
  });
  return Snapshot.build(config, 1, { clock, random: seededRandom(7) }).services.get('app')!;
}

function routed(svc: Service, idempotent = false, hedging = true): RoutedRequest {
  return {
    requestId: 'rid', service: svc, endpoint: svc.pick({ attempt: 0 })!, target: '/x', headers: [], hashKey: undefined,
    idempotent, hedging, staleKey: 'app\nh\n/x', route: 'r', upgrades: new Set(), clientIp: '127.0.0.1', rateLimits: [],
  };
}

class FakeTry implements BackupTry {
  cancelled = false;
  constructor(readonly endpoint: Endpoint, readonly started: number) {}
  cancel(): void { this.cancelled = true; }
}

/** Records every call of the driver into `calls`; the client's body is fed through `body()`. */
class FakeExchange extends ExchangeDriver<FakeTry> {
  readonly calls: string[] = [];
  readonly backups: FakeTry[] = [];
  /** The bytes written to the client. */
  out = '';
  begun = false;

  constructor(r: RoutedRequest, method: string, hasBody: boolean) {
    super(r, method, hasBody, clock, null, 1);
    this.begin();
  }

  /** The client's body arrives (as the fast engine feeds it: into the replay copy, sent to the try). */
  body(text: string): void { this.replay!.add(Buffer.from(text)); this.replay!.end(); }

  protected startTry(ep: Endpoint, timeoutMs: number, racing: boolean): void {
    const body = this.retries > 0 && this.replay !== null ? ` body=${this.replay.body().toString()}` : '';
    this.calls.push(`try ${ep.key}${racing ? ' racing' : ''}${body}`);
  }
  protected startBackup(ep: Endpoint): FakeTry {
    this.calls.push(`backup ${ep.key}`);
    const b = new FakeTry(ep, clock.now());
    this.backups.push(b);
    return b;
  }
  protected promote(b: FakeTry): void { this.calls.push(`promote ${b.endpoint.key}`); }
  protected judgeLoser(ep: Endpoint, ms: number): void { this.calls.push(`judge ${ep.key} ${ms}ms`); }
  protected abortTry(): void { this.calls.push('abort try'); }
  protected writeHead(status: number): null { this.calls.push(`head ${status}`); return null; }
  protected writeBody(chunk: Buffer): boolean { this.begun = true; this.out += chunk.toString(); return true; }
  protected endResponse(): void { this.calls.push('end'); }
  protected answerError(code: ProxyErrorCode, detail: string, broken: boolean): void { this.calls.push(`error ${code}${broken ? ' broken' : ''}: ${detail}`); }
  protected answerDegraded(a: DegradedAnswer): void { this.calls.push(`degraded ${a.kind} ${a.status}`); }
  protected cut(): void { this.calls.push('cut'); }
  get responseBegun(): boolean { return this.begun; }
  protected clientAddress(): string { return '127.0.0.1'; }
}

const inFlight = (svc: Service) => svc.endpoints.map((e) => e.inFlight);

/** The service's counters (shared by every test's service of that name) as they change from now on. */
function counted(svc: Service): () => Record<string, number> {
  const c = svc.counters as unknown as Record<string, number>;
  const keys = ['retries', 'hedges', 'hedgesWon', 'degradedErrorPage'];
  const before = keys.map((k) => c[k]);
  return () => Object.fromEntries(keys.map((k, i) => [k, c[k] - before[i]]).filter(([, v]) => v !== 0));
}

test('a refused connect is retried on another backend, the request body replayed from its copy', () => {
  const svc = service();
  const counts = counted(svc);
  const ex = new FakeExchange(routed(svc), 'POST', true);
  ex.body('hello');
  ex.failed('ECONNREFUSED');
  assert.equal(ex.responseHead(200, 'OK', ['content-length', '2']), true);
  ex.responseData(Buffer.from('ok'));
  ex.responseEnd();
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001', 'try 127.0.0.1:9002 body=hello', 'head 200', 'end']);
  assert.equal(ex.out, 'ok');
  assert.deepEqual(counts(), { retries: 1 });
  assert.deepEqual(inFlight(svc), [0, 0, 0], 'both tries ended on their backends');
});

test('a body larger than retries.maxBufferedBody is not replayed: the failure is answered', () => {
  const svc = service();
  const ex = new FakeExchange(routed(svc), 'POST', true);
  ex.body('a body of more than sixteen bytes');
  ex.failed('ECONNREFUSED');
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001', 'error SWY_UPSTREAM_CONNECT broken: cannot connect to backend (service app)']);
  assert.deepEqual(inFlight(svc), [0, 0, 0]);
});

test('a retryable 503 is read and dropped, and the request goes to another backend', () => {
  const svc = service();
  const ex = new FakeExchange(routed(svc), 'GET', false);
  ex.responseHead(503, 'Service Unavailable', []);
  ex.responseData(Buffer.from('busy'));
  ex.responseEnd();
  ex.responseHead(200, 'OK', []);
  ex.responseData(Buffer.from('fine'));
  ex.responseEnd();
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001', 'try 127.0.0.1:9002', 'head 200', 'end']);
  assert.equal(ex.out, 'fine', 'nothing of the 503 reached the client');
});

test('hedge win: the backup answers first, becomes the try, and the first try gets a verdict', () => {
  const svc = service({ hedging: { enabled: true, minDelay: '30s', maxDelay: '30s' } });
  const counts = counted(svc);
  const ex = new FakeExchange(routed(svc), 'GET', false);
  assert.notEqual(ex.dueAt, 0, 'queued for its hedge');
  ex.hedgeDue();
  assert.deepEqual(inFlight(svc), [1, 1, 0], 'two tries in flight');
  const backup = ex.backups[0];
  ex.backupWon(backup);
  ex.responseHead(200, 'OK', []);
  ex.responseEnd();
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001 racing', 'backup 127.0.0.1:9002', 'judge 127.0.0.1:9001 60000ms', 'promote 127.0.0.1:9002', 'head 200', 'end']);
  assert.equal(backup.cancelled, false);
  assert.deepEqual(counts(), { hedges: 1, hedgesWon: 1 });
  assert.deepEqual(inFlight(svc), [0, 0, 0]);
});

test('hedge lost: the first try answers, the backup is cancelled; a failed first try hands over to the backup', () => {
  const svc = service({ hedging: { enabled: true, minDelay: '30s', maxDelay: '30s' } });
  const counts = counted(svc);
  const a = new FakeExchange(routed(svc), 'GET', false);
  a.hedgeDue();
  a.responseHead(200, 'OK', []);
  a.responseEnd();
  assert.equal(a.backups[0].cancelled, true);
  assert.equal(a.dueAt, 0);
  const b = new FakeExchange(routed(svc), 'GET', false);
  b.hedgeDue();
  b.failed('ECONNRESET');
  b.responseHead(200, 'OK', []);
  b.responseEnd();
  assert.deepEqual(b.calls.slice(2), [`promote ${b.backups[0].endpoint.key}`, 'head 200', 'end']);
  assert.deepEqual(counts(), { hedges: 2 }, 'the backup took over: no retry');
  assert.deepEqual(inFlight(svc), [0, 0, 0]);
});

test('degrade: when every try failed, the service\'s error page instead of the proxy error', () => {
  const svc = service({ retries: { connectRetries: 1, baseDelay: '0ms' }, degradation: { errorPage: { status: 503, body: 'down for a moment' } } });
  const counts = counted(svc);
  const ex = new FakeExchange(routed(svc), 'GET', false);
  ex.failed('ECONNREFUSED');
  ex.failed('ECONNREFUSED');
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001', 'try 127.0.0.1:9002', 'degraded error-page 503']);
  assert.deepEqual(counts(), { retries: 1, degradedErrorPage: 1 });
});

test('a failure after response bytes went out cuts the client connection: no retry, no second answer', () => {
  const svc = service();
  const ex = new FakeExchange(routed(svc), 'GET', false);
  ex.responseHead(200, 'OK', []);
  ex.responseData(Buffer.from('part'));
  ex.failed('ECONNRESET');
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001', 'head 200', 'cut']);
});

test('the client leaving cancels the upstream try and the backup; later upstream events are ignored', () => {
  const svc = service({ hedging: { enabled: true, minDelay: '30s', maxDelay: '30s' } });
  const ex = new FakeExchange(routed(svc), 'GET', false);
  ex.hedgeDue();
  ex.clientClosed();
  assert.equal(ex.backups[0].cancelled, true);
  assert.equal(ex.dueAt, 0);
  assert.equal(ex.responseHead(200, 'OK', []), false);
  ex.responseEnd();
  ex.failed('ECONNRESET');
  assert.deepEqual(ex.calls, ['try 127.0.0.1:9001 racing', 'backup 127.0.0.1:9002', 'abort try']);
  assert.deepEqual(inFlight(svc), [0, 0, 0]);
});
