import { connect } from 'node:net';
import { SwitchyardError } from '../util/errors.js';

/*
 * BIRD 2's control-socket protocol, spoken directly (what birdc does, without a process per
 * command). BIRD greets with `0001 BIRD x.y ready.`; each reply is lines `CODE-text` (more to
 * come), ` text` (continuation) and ends with a line `CODE text` (code, then a space). Codes
 * 0xxx are success, 1xxx/2xxx table output, 8xxx/9xxx errors.
 */

/** One reply line: its code (that of the last coded line for continuations) and text. */
export interface BirdLine { code: number; text: string }

/** A whole reply; `code` is that of the final line. */
export interface BirdReply { code: number; lines: BirdLine[] }

/** Splits a reply's raw text into lines; undefined while its final line has not arrived. */
export function parseBirdReply(raw: string): BirdReply | undefined {
  const lines: BirdLine[] = [];
  let code = 0;
  for (const l of raw.split('\n')) {
    const m = /^(\d{4})([ -])(.*)$/.exec(l);
    if (m === null) {
      if (l.startsWith(' ')) lines.push({ code, text: l.slice(1) });
      continue;
    }
    code = Number(m[1]);
    lines.push({ code, text: m[3] });
    if (m[2] === ' ') return { code, lines };
  }
  return undefined;
}

/**
 * Runs one command on the BIRD control socket at `path` (a connection per command: nothing to
 * keep in sync across a BIRD restart). Rejects with SWY_BIRD_UNREACHABLE when the socket cannot
 * be reached or does not answer within `timeoutMs`, SWY_BIRD_ERROR on an 8xxx/9xxx reply.
 */
export function birdCommand(path: string, command: string, timeoutMs: number): Promise<BirdReply> {
  if (/[\r\n]/.test(command)) return Promise.reject(new SwitchyardError('SWY_BIRD_ERROR', 'a BIRD command is one line'));
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    let greeted = false;
    let settled = false;
    const settle = () => { settled = true; clearTimeout(timer); };
    const fail = (message: string, code = 'SWY_BIRD_UNREACHABLE') => {
      if (settled) return;
      settle();
      sock.destroy();
      reject(new SwitchyardError(code, `BIRD ${path}: ${message}`));
    };
    const timer = setTimeout(() => fail(`no answer to "${command}" within ${timeoutMs} ms`), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e: NodeJS.ErrnoException) => fail(`${e.code ?? e.message}`));
    sock.on('data', (d: string) => {
      buf += d;
      // Bounded: no reply this module asks for is near this size.
      if (buf.length > 4 << 20) { fail('reply over 4 MiB'); return; }
      const reply = parseBirdReply(buf);
      if (reply === undefined) return;
      if (!greeted) {
        greeted = true;
        buf = '';
        sock.write(`${command}\n`);
        return;
      }
      if (reply.code >= 8000) { fail(`"${command}": ${reply.lines.map((l) => l.text).join(' ').trim()}`, 'SWY_BIRD_ERROR'); return; }
      settle();
      sock.end();
      resolve(reply);
    });
    sock.on('close', () => fail(`closed before answering "${command}"`));
  });
}
