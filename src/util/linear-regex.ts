import { RE2JS } from 're2js';

/*
 * Route regexes run on RE2 (re2js, a pure-JS port): matching time is linear in the input, so a
 * pattern like `^/(a+)+$` cannot be made to backtrack for seconds by a crafted path, as it does
 * on V8's backtracking engine. A static "is this pattern safe" check was the alternative; such
 * checkers judge by heuristics (star height) and miss overlapping alternations like `(a|aa)+`,
 * where RE2 is safe by construction. The cost: RE2 has no backreferences or lookaround (they
 * are rejected at validate), and a match costs ~0.1–1 µs instead of ~0.05 µs on V8 (bench/route-regex.mjs).
 */

/** Largest compiled program accepted; the cost of a match grows with input length × program size. */
export const MAX_REGEX_PROGRAM = 5000;

/** A compiled linear-time regex; `test` is true when the pattern matches anywhere in the input (like RegExp#test). */
export interface LinearRegex {
  readonly engine: 're2';
  test(input: string): boolean;
}

/** Compiles JavaScript-style pattern text on RE2. Throws an Error saying why it cannot (RE2 syntax, size). */
export function compileLinearRegex(source: string): LinearRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(source));
  } catch (e) {
    throw new Error(`not supported by the linear-time regex engine (RE2: no backreferences, no lookaround): ${(e as Error).message}`);
  }
  if (re.programSize() > MAX_REGEX_PROGRAM) throw new Error(`regex too large (program size ${re.programSize()} > ${MAX_REGEX_PROGRAM})`);
  return { engine: 're2', test: (input) => re.test(input) };
}

/** Why `source` cannot be a route regex, or undefined when it can. */
export function linearRegexProblem(source: string): string | undefined {
  try {
    compileLinearRegex(source);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
