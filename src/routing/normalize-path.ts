/*
 * Request-path normalization before routing, as nginx does, so `/%61dmin`, `/x/../admin` or
 * `/./admin` cannot slip past a route meant for `/admin`. Hand-written because it runs on every
 * request and because URL/WHATWG parsing is both slower and too lenient here (it accepts `\`
 * as a separator and silently repairs invalid escapes).
 */

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" */
function isUnreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ||
    c === 45 || c === 46 || c === 95 || c === 126;
}

/**
 * Normalizes the path part of an origin-form request target (no query).
 * - decodes percent-encoded unreserved characters (`%61` → `a`, `%2E` → `.`), upper-cases
 *   other escapes and leaves them encoded (`%2f` stays an escaped slash, `%2F`);
 * - removes dot segments (RFC 3986 §5.2.4);
 * - merges repeated slashes when `mergeSlashes`.
 * Returns undefined when the path is not acceptable (not starting with `/`, a broken escape,
 * an escaped NUL, or a dot segment climbing above the root is clamped as browsers do).
 * Hot path: returns the input string unchanged, without allocating, when nothing needs doing.
 */
export function normalizePath(path: string, mergeSlashes: boolean): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined;
  // Fast path: nothing encoded, no dot segment, no double slash to merge.
  if (path.indexOf('%') === -1 && path.indexOf('/.') === -1 && (!mergeSlashes || path.indexOf('//') === -1)) {
    return path;
  }
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c !== 37) { decoded += path[i]; continue; }
    if (i + 2 >= path.length) return undefined;
    const h = hexVal(path.charCodeAt(i + 1));
    const l = hexVal(path.charCodeAt(i + 2));
    if (h < 0 || l < 0) return undefined;
    const v = h * 16 + l;
    if (v === 0) return undefined;
    if (isUnreserved(v)) decoded += String.fromCharCode(v);
    else decoded += '%' + HEX[h] + HEX[l];
    i += 2;
  }
  return removeDotSegments(decoded, mergeSlashes);
}

/** RFC 3986 §5.2.4 over `/`-separated segments; the input starts with `/`. */
function removeDotSegments(path: string, mergeSlashes: boolean): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const s = segments[i];
    if (s === '.') {
      if (i === last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === last) out.push('');
    } else if (s === '' && mergeSlashes && i !== last) {
      continue;
    } else {
      out.push(s);
    }
  }
  return '/' + out.join('/');
}

/**
 * The path routes are matched against: a normalized path read the way the most lenient backend
 * might read it, so that no spelling of a protected path reaches a backend through another route
 * (Orange Tsai, "Breaking Parser Logic", Black Hat 2018): every escape decoded once (`%2F` is a
 * slash here), `\` taken as `/`, `;params` dropped from each segment (Tomcat, Spring), repeated
 * slashes merged and dot segments removed again. The backend still receives the normalized path.
 * Undefined (→ 400): an escaped C0/C1 byte (only ever an overlong UTF-8 sequence, e.g. `%C0%AF`
 * for `/`).
 * Hot path: returns the input unchanged when it holds none of `% ; \ //`.
 */
export function routingPath(path: string): string | undefined {
  if (path.indexOf('%') === -1 && path.indexOf(';') === -1 && path.indexOf('\\') === -1 && path.indexOf('//') === -1) return path;
  let decoded = path;
  if (path.indexOf('%') !== -1) {
    const bytes: number[] = [];
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c === 37 && i + 2 < path.length && hexVal(path.charCodeAt(i + 1)) >= 0 && hexVal(path.charCodeAt(i + 2)) >= 0) {
        const v = hexVal(path.charCodeAt(i + 1)) * 16 + hexVal(path.charCodeAt(i + 2));
        if (v === 0xc0 || v === 0xc1) return undefined;
        bytes.push(v);
        i += 2;
      } else if (c < 0x80) bytes.push(c);
      else for (const b of Buffer.from(path[i], 'utf8')) bytes.push(b);
    }
    decoded = Buffer.from(bytes).toString('utf8');
  }
  const segments = decoded.replaceAll('\\', '/').split('/').map((s) => { const semi = s.indexOf(';'); return semi === -1 ? s : s.slice(0, semi); });
  return removeDotSegments(segments.join('/'), true);
}
