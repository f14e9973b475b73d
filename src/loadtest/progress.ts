import { BEHIND_THRESHOLD_MS } from './generator.js';
import type { SecondPoint } from './recorder.js';

/*
 * The live view of a run: one line rewritten in place on a terminal, plain lines every few seconds
 * otherwise (CI logs). Phase changes, command events and warnings are always lines of their own.
 */

/** Where progress goes: a terminal (isTTY) or a log. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

function clock(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const mm = `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mm}` : mm;
}

/** Formats one closed second as the progress line (no newline). */
export function progressLine(p: SecondPoint, run: string, phase: string, plannedS: number): string {
  const errs = Object.entries(p.errors).map(([k, v]) => `${k} ${v}`).join(', ');
  const behind = p.lagMs > BEHIND_THRESHOLD_MS ? `  BEHIND by ${Math.round(p.lagMs)} ms (generator overloaded; latency still timed from schedule)` : '';
  return `[${run}/${phase}] ${clock(p.t + 1)}/${clock(plannedS)}  offered ${p.offered}/s  ok ${p.ok}/s  errors ${p.failed}${errs === '' ? '' : ` (${errs})`}  p99 ${p.p99 === null ? 'n/a' : `${p.p99} ms`}  in flight ${p.inFlight}${behind}`;
}

export class ProgressReporter {
  private lastPhase = '';
  private lineOpen = false;

  /** `plainEveryS`: on a non-terminal, print every this many seconds (and on every error or lag). */
  constructor(private readonly out: ProgressStream, private readonly plainEveryS = 5) {}

  /** A closed second of run `run` (planned length `plannedS`). */
  second(p: SecondPoint, run: string, phase: string, plannedS: number): void {
    if (`${run}/${phase}` !== this.lastPhase) {
      this.lastPhase = `${run}/${phase}`;
      this.message(`${run}: phase "${phase}" from ${p.t} s`);
    }
    const line = progressLine(p, run, phase, plannedS);
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.lineOpen = true;
    } else if ((p.t + 1) % this.plainEveryS === 0 || p.failed > 0 || p.lagMs > BEHIND_THRESHOLD_MS) {
      this.out.write(`${line}\n`);
    }
  }

  /** A line of its own (phase change, command, warning). */
  message(text: string): void {
    this.end();
    this.out.write(`${text}\n`);
  }

  /** Ends the in-place line, if any. */
  end(): void {
    if (this.lineOpen) this.out.write('\n');
    this.lineOpen = false;
  }
}
