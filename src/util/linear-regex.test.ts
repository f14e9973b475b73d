import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLinearRegex, linearRegexProblem } from './linear-regex.js';

// Classic catastrophic-backtracking patterns (OWASP ReDoS list and the issue's own), each with an
// input that takes a backtracking engine exponential time: on RE2 they either do not compile or match.
const CATASTROPHIC: [string, string, boolean][] = [
  ['^/(a+)+$', `/${'a'.repeat(5000)}!`, false],
  ['^(a+)+$', `${'a'.repeat(5000)}!`, false],
  ['(a|a)*$', `${'a'.repeat(5000)}!`, true],
  ['^(a|a)*$', `${'a'.repeat(5000)}!`, false],
  ['^(a|aa)+$', `${'a'.repeat(5000)}!`, false],
  ['^(.*a){20}$', `${'a'.repeat(5000)}!`, false],
  ['^([a-zA-Z]+)*$', `${'a'.repeat(5000)}!`, false],
  ['^(a*)*$', `${'a'.repeat(5000)}!`, false],
  ['^(\\w+\\s?)*$', `${'word '.repeat(2000)}!`, false],
  ['^([a-z0-9]+([._-][a-z0-9]+)*)@x$', `${'a.'.repeat(2500)}!`, false],
];

test('catastrophic patterns run on RE2 and answer an adversarial input of thousands of characters', () => {
  for (const [pattern, input, expected] of CATASTROPHIC) {
    const re = compileLinearRegex(pattern);
    assert.equal(re.engine, 're2', pattern);
    assert.equal(re.test(input), expected, pattern);
  }
});

test('backreferences and lookaround (which need backtracking) are rejected with a reason', () => {
  for (const p of ['^(a+)\\1$', '^/(?=admin)', '^/(?!admin)', '(?<=x)y', '(?<!x)y']) {
    assert.match(linearRegexProblem(p) ?? '', /linear-time regex engine/, p);
  }
  assert.match(linearRegexProblem('[a-') ?? '', /linear-time/);
  assert.match(linearRegexProblem('^(a{1,1000}){1,1000}$') ?? '', /too large/);
  assert.match(linearRegexProblem('^(/p[0-9]+x|/q[a-z]+y){0,600}$') ?? '', /too large/);
  assert.equal(linearRegexProblem('^[a-z]{1,999}$'), undefined);
});

test('JavaScript-style route patterns keep their meaning', () => {
  const v = compileLinearRegex('^/v[0-9]+/users$');
  assert.equal(v.test('/v12/users'), true);
  assert.equal(v.test('/v12/users/1'), false);
  assert.equal(compileLinearRegex('\\.php').test('/x/index.php'), true);
  assert.equal(compileLinearRegex('^\\/api\\/(?<id>\\d+)$').test('/api/42'), true);
  assert.equal(compileLinearRegex('^/a.c$').test('/a\nc'), false);
});
