import { InvalidArgumentError } from 'commander';

/*
 * Option parsers for the CLI. They run inside commander's parsing, before any command body and
 * its error wrapper: a bad value must become commander's own usage error (one line, exit 2),
 * never an exception with a stack trace.
 */

/** Exit code of a usage error (bad flag or value), as with most Unix tools; 1 stays "the command failed". */
export const USAGE_EXIT = 2;

/** Parses a positive integer option value (`-w 4`); anything else is a usage error naming the value. */
export function positiveInt(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}
