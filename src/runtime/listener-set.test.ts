import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from 'node:net';
import type { Logger } from 'pino';
import { validateConfig } from '../config/load.js';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { Listener, ListenerKind } from '../listener/listener.js';
import { ListenerRegistry } from '../listener/registry.js';
import { listenerCounters } from '../observe/stats.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import { ManualClock } from '../util/clock.js';
import { ListenerSet } from './listener-set.js';
import { listenerKinds } from './listener-kinds.js';

/** What the fake listeners did, in order: `kind:name:event`. */
const events: string[] = [];
const warnings: string[] = [];
const log = { warn: (_o: unknown, m: string) => { warnings.push(m); }, debug: () => undefined, info: () => undefined } as unknown as Logger;

/** A kind whose listeners record their lifecycle; `refuse` names listeners whose bind fails. */
function fakeKind(name: string, protocols: ListenerConfig['protocol'][], engine: ListenerConfig['engine'], refuse = new Set<string>(), unavailable: string | null = null): ListenerKind {
  return {
    name, protocols, engine, unavailable: () => unavailable,
    create: (cfg): Listener => ({
      name: cfg.name, acceptor: new Server(), counters: listenerCounters(cfg.name),
      listen: async () => { events.push(`${name}:${cfg.name}:listen`); if (refuse.has(cfg.name)) throw new Error(`cannot bind ${cfg.name}`); },
      apply: (c) => { events.push(`${name}:${c.name}:apply:${c.maxConnections}`); },
      close: async () => { events.push(`${name}:${cfg.name}:close`); },
    }),
  };
}

const config = (listeners: object[]): Config => validateConfig({ listeners, routes: [{ service: 'app' }], services: { app: { backends: [{ address: '127.0.0.1:9' }] } } });
const holder = {} as SnapshotHolder;

function setup(refuse = new Set<string>(), fastTcp: string | null = null): ListenerSet {
  events.length = 0; warnings.length = 0;
  const kinds = new ListenerRegistry([
    fakeKind('http-fast', ['http', 'https'], 'fast', refuse), fakeKind('http-node', ['http', 'https'], 'node', refuse),
    fakeKind('tcp-fast', ['tcp', 'tls-passthrough'], 'fast', refuse, fastTcp), fakeKind('tcp-node', ['tcp', 'tls-passthrough'], 'node', refuse),
  ]);
  return new ListenerSet(kinds, () => holder, new ManualClock(), log, 2);
}

test('listener set: each listener is made by the kind of its protocol and engine, bound at prepare, configured at commit', async () => {
  const set = setup();
  const cfg = config([{ name: 'web', address: '127.0.0.1:1' }, { name: 'old', address: '127.0.0.1:2', engine: 'node' }, { name: 'db', address: '127.0.0.1:3', protocol: 'tcp', service: 'app', maxConnections: 7 }]);
  const p = await set.prepare(cfg, null);
  assert.deepEqual(events, ['http-fast:web:listen', 'http-node:old:listen', 'tcp-fast:db:listen'], 'bound, not yet configured');
  events.length = 0;
  set.commit(p);
  assert.deepEqual(events, ['http-fast:web:apply:10000', 'http-node:old:apply:10000', 'tcp-fast:db:apply:7']);
  events.length = 0;
  await set.closeAll(0);
  assert.deepEqual(events.sort(), ['http-fast:web:close', 'http-node:old:close', 'tcp-fast:db:close']);
});

test('listener set: a listener that cannot bind closes the ones the same prepare opened, and changes nothing live', async () => {
  const set = setup(new Set(['b']));
  set.commit(await set.prepare(config([{ name: 'a', address: '127.0.0.1:1' }]), null));
  events.length = 0;
  await assert.rejects(set.prepare(config([{ name: 'a', address: '127.0.0.1:1' }, { name: 'n', address: '127.0.0.1:4' }, { name: 'b', address: '127.0.0.1:5', protocol: 'tcp', service: 'app' }]), null), /cannot bind b/);
  assert.deepEqual(events, ['http-fast:n:listen', 'tcp-fast:b:listen', 'http-fast:n:close', 'tcp-fast:b:close'], 'the live listener a is untouched');
  events.length = 0;
  await set.closeAll(0);
  assert.deepEqual(events, ['http-fast:a:close']);
});

test('listener set: a commit drops removed listeners; one whose protocol or engine changed keeps its kind until a restart (warned)', async () => {
  const set = setup();
  set.commit(await set.prepare(config([{ name: 'a', address: '127.0.0.1:1' }, { name: 'b', address: '127.0.0.1:2' }]), null));
  events.length = 0;
  const p = await set.prepare(config([{ name: 'a', address: '127.0.0.1:1', engine: 'node', maxConnections: 5 }]), null);
  assert.deepEqual(events, [], 'nothing opened for a kept listener');
  set.commit(p);
  assert.deepEqual(events, ['http-fast:a:apply:5', 'http-fast:b:close']);
  assert.deepEqual(warnings, ['changing a listener\'s protocol or engine takes effect on restart']);
});

test('listener set: a discarded prepare closes what it opened; a kind this Node cannot run falls back to the node engine (warned)', async () => {
  const set = setup(new Set(), 'no bindings here');
  const p = await set.prepare(config([{ name: 't', address: '127.0.0.1:1', protocol: 'tls-passthrough', service: 'app' }]), null);
  assert.deepEqual(warnings, ['no bindings here: serving with engine: node']);
  await set.discard(p);
  assert.deepEqual(events, ['tcp-node:t:listen', 'tcp-node:t:close']);
});

test('listener registry: every protocol of the schema has a kind on both engines; a clash or a missing kind is an error', () => {
  for (const protocol of ['http', 'https', 'tcp', 'tls-passthrough'] as const) {
    for (const engine of ['fast', 'node'] as const) {
      const { kind, fallback } = listenerKinds.resolve({ protocol, engine });
      assert.ok(kind.protocols.includes(protocol), `${protocol}/${engine}: ${kind.name}`);
      assert.equal(kind.engine, fallback === null ? engine : 'node');
    }
  }
  assert.throws(() => new ListenerRegistry([fakeKind('a', ['http'], 'fast'), fakeKind('b', ['http', 'tcp'], 'fast')]), /a and b both serve http\/fast/);
  assert.throws(() => new ListenerRegistry([fakeKind('a', ['http'], 'fast')]).resolve({ protocol: 'tcp', engine: 'fast' }), /no listener kind serves protocol tcp on engine fast/);
  assert.throws(() => new ListenerRegistry([fakeKind('a', ['tcp'], 'fast', new Set(), 'nope')]).resolve({ protocol: 'tcp', engine: 'fast' }), /cannot run here \(nope\)/);
});
