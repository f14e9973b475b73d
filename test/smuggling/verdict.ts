import type { Expect, Vector } from './corpus.js';
import type { SeenRequest } from './raw-backend.js';

/*
 * Judging one vector. Safety (the same for every proxy): no request the backend parsed reads as
 * the protected path, and no forbidden header reached it. Expectation (Switchyard's tests): the
 * answer the client got matches the vector's `expect`.
 */

/** The protected path the proxies' routes deny. */
export const PROTECTED = '/admin';

/** What a client saw for one vector. */
export interface Outcome {
  /** Final statuses received, in order (HTTP/1.x responses, or the HTTP/2 stream's). */
  statuses: number[];
  /** The proxy closed the connection (or reset the HTTP/2 stream / sent GOAWAY). */
  closed: boolean;
  /** The next client's request (a fresh connection after the vector) got this status. */
  probe: number;
}

function removeDots(path: string): string {
  const out: string[] = [];
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    if (s === '' && i !== segs.length - 1) continue; // merge slashes
    if (s === '.') { if (i === segs.length - 1) out.push(''); continue; }
    if (s === '..') { out.pop(); if (i === segs.length - 1) out.push(''); continue; }
    out.push(s);
  }
  return '/' + out.join('/');
}

/**
 * A request target read as the most lenient backends read it: absolute-form reduced to its path,
 * query and fragment cut, every escape decoded once (overlong UTF-8 `/`, `.`, `\` too), `\` as
 * `/`, `;params` dropped per segment, repeated slashes merged, dot segments removed.
 */
export function lenientPath(target: string): string {
  let t = target;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(t);
  if (abs !== null) t = t.slice(abs[0].length) || '/';
  t = t.split('#')[0].split('?')[0];
  t = t.replace(/%c0%af/gi, '/').replace(/%c0%ae/gi, '.').replace(/%c1%9c/gi, '\\');
  t = t.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  t = t.replaceAll('\\', '/').split('/').map((s) => s.split(';')[0]).join('/');
  return removeDots(t.startsWith('/') ? t : `/${t}`);
}

/** Whether a backend would serve `target` from the protected area. */
export function reachesProtected(target: string): boolean {
  const p = lenientPath(target);
  return p === PROTECTED || p.startsWith(`${PROTECTED}/`);
}

/** Why the backend's view shows the vector got through (empty: safe). `seen`: requests since the vector began. */
export function safetyViolations(v: Vector, seen: readonly SeenRequest[], outcome: Outcome): string[] {
  const out: string[] = [];
  for (const r of seen) {
    if (reachesProtected(r.url)) out.push(`backend served ${r.method} ${r.url}`);
    if (v.forbid !== undefined) {
      for (let i = 0; i < r.headers.length; i += 2) {
        if (r.headers[i].toLowerCase() === v.forbid.name && v.forbid.value.test(r.headers[i + 1])) out.push(`backend received ${r.headers[i]}: ${r.headers[i + 1]}`);
      }
    }
  }
  if (outcome.probe !== 200) out.push(`the next client's request got ${outcome.probe || 'no answer'} (desynchronized)`);
  return out;
}

/** Statuses a proxy's deny answer may have (Switchyard: the route's service has no backend). */
const DENY = new Set([403, 404, 503]);

/**
 * Whether the client saw what the vector expects; `fromVector`: backend requests before the probe
 * (a rejected request may have had its head streamed before the bad body was read: it must not
 * have completed).
 */
export function meetsExpectation(v: Vector, o: Outcome, fromVector: readonly SeenRequest[]): boolean {
  const first = o.statuses[0];
  const expect: Expect = v.expect;
  switch (expect) {
    case 'reject': return (first === undefined ? o.closed : first >= 400 && first < 500) &&
      fromVector.every((r) => !r.complete || (v.legit ?? []).includes(r.url));
    case 'forward': return first !== undefined && first >= 200 && first < 300 && fromVector.length > 0;
    case 'deny': return DENY.has(first) && fromVector.length === 0;
    case 'refused': return first === 426;
    case 'tunnel': return first === 101;
    case 'bad-gateway': return first === 502;
  }
}
