import assert from 'node:assert/strict';
import { checkServerName, checkUserName, printable } from '../../src/names.js';

describe('names: what may become a path, a route or a sudo argument', () => {
  for (const ok of ['lab', 'r-studio', 'a.b_c', '0', 'x'.repeat(63)]) {
    it(`accepts the server name '${ok.slice(0, 20)}'`, () => assert.equal(checkServerName(ok), ok));
  }
  for (const bad of [
    '',
    'Lab',
    '-rf',
    '.hidden',
    'a/b',
    'a..b',
    '..',
    'x'.repeat(64),
    'ü',
    'a\0b',
    'a b',
  ]) {
    it(`refuses the server name ${JSON.stringify(bad.slice(0, 20))} with a 400`, () => {
      assert.throws(
        () => checkServerName(bad),
        (err: any) => err.status === 400 && err.code === 'invalid_name',
      );
    });
  }
  for (const bad of ['', '-u', 'root;', 'a/b', '..', 'x'.repeat(33), 'al ice']) {
    it(`refuses the user name ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => checkUserName(bad),
        (err: any) => err.status === 400,
      );
    });
  }
  it('accepts LDAP-style user names', () => assert.equal(checkUserName('j.doe-2'), 'j.doe-2'));
  it('echoes user input without control characters and cut to length', () => {
    assert.equal(printable('a\nb\u0000c'), 'a?b?c');
    assert.equal(printable('x'.repeat(100)).length, 65);
  });
});
