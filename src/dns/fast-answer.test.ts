import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dns from 'dns-packet';
import { addressBytes } from '../util/cidr-table.js';
import { encodeAnswers, questionEnd } from './fast-answer.js';

const query = (name: string, type: 'A' | 'AAAA', ecs?: string) => dns.encode({
  id: 4242, type: 'query', flags: dns.RECURSION_DESIRED, questions: [{ type, name }],
  additionals: ecs === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: 4096, options: [{ code: 'CLIENT_SUBNET', ip: ecs, sourcePrefixLength: 22 }] } as unknown as dns.Answer],
});

test('the fast encoder writes what dns-packet decodes as the same response', () => {
  for (const [name, type, ips, ecs] of [
    ['WwW.Geo.example.test', 'A', ['10.0.1.1', '10.0.1.2'], '198.51.100.0'],
    ['www.geo.example.test', 'AAAA', ['2001:db8::1'], undefined],
    ['a.geo.example.test', 'A', [], '2001:db8:ff00::'],
  ] as const) {
    const q = query(name, type, ecs);
    const flags = dns.RECURSION_DESIRED | dns.AUTHORITATIVE_ANSWER;
    const opt = ecs === undefined ? undefined : { udpPayloadSize: 1232, ecs: { family: ecs.includes(':') ? 2 : 1, sourcePrefixLength: 22, scopePrefixLength: 20, address: addressBytes(ecs)! } };
    const fast = dns.decode(encodeAnswers(q, questionEnd(q), flags, type === 'A' ? 1 : 28, 30, ips.map((a) => addressBytes(a)!), opt)) as dns.DecodedPacket & { flag_aa: boolean };
    assert.equal(fast.id, 4242);
    assert.equal(fast.type, 'response');
    assert.ok(fast.flag_aa);
    assert.deepEqual(fast.questions, [{ name, type, class: 'IN' }]);
    assert.deepEqual(fast.answers!.map((a) => [(a as dns.StringAnswer).name, a.type, (a as dns.StringAnswer).ttl, (a as dns.StringAnswer).data]), ips.map((ip) => [name, type, 30, ip]));
    const o = fast.additionals!.find((a) => a.type === 'OPT') as unknown as { udpPayloadSize: number; options: { family: number; sourcePrefixLength: number; scopePrefixLength: number; ip: string }[] } | undefined;
    if (ecs === undefined) { assert.equal(o, undefined); continue; }
    assert.equal(o!.udpPayloadSize, 1232);
    assert.deepEqual(o!.options.map((x) => [x.family, x.sourcePrefixLength, x.scopePrefixLength]), [[ecs.includes(':') ? 2 : 1, 22, 20]]);
    // The address goes back cut to the source prefix's bytes (22 bits → 3).
    const sent = addressBytes(ecs)!.map((b, i) => (i < 3 ? b : 0));
    assert.equal(addressBytes(o!.options[0].ip)!.join(), sent.join());
  }
});

test('a compressed or cut question is left to the generic encoder', () => {
  const q = query('www.geo.example.test', 'A');
  assert.equal(questionEnd(q), q.length);
  assert.equal(questionEnd(Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])])), -1);
  assert.equal(questionEnd(q.subarray(0, q.length - 2)), -1);
});
