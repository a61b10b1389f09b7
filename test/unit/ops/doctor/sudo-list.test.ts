import assert from 'node:assert/strict';
import { flag, parseSudoList, ruleFor, setting } from '../../../../src/ops/doctor/sudo-list.js';

const PROXY = '/usr/lib/hubapps/bin/hubapps-proxy';
const DEBIAN = `Matching Defaults entries for hubapps on vm:
    env_reset, mail_badpass, secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin, use_pty

User hubapps may run the following commands on vm:
    (%hubapps-users, !root) NOPASSWD: ${PROXY} ""
`;

describe('reading sudo -l for doctor', () => {
  it('finds the rule, its NOPASSWD tag, the !root and the empty argument list', () => {
    const list = parseSudoList(DEBIAN);
    assert.equal(list.allowed, true);
    assert.deepEqual(ruleFor(list, PROXY), {
      line: `(%hubapps-users, !root) NOPASSWD: ${PROXY} ""`,
      nopasswd: true,
      asRoot: false,
      noArguments: true,
      excludesUid0: false,
    });
    assert.equal(ruleFor(list, `${PROXY}2`), undefined);
  });

  it('reads secure_path without its escapes and sees no requiretty', () => {
    const list = parseSudoList(DEBIAN);
    assert.equal(
      setting(list, 'secure_path'),
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    );
    assert.equal(flag(list, 'requiretty'), undefined);
  });

  it('sees requiretty set for the user or for the command, and the last setting winning', () => {
    const userWide = DEBIAN.replace('use_pty', 'use_pty, requiretty');
    assert.equal(flag(parseSudoList(userWide), 'requiretty'), true);
    const specific = DEBIAN.replace(
      '\nUser ',
      `\nRunas and Command-specific defaults for hubapps:\n    Defaults!${PROXY} requiretty\n\nUser `,
    );
    assert.equal(flag(parseSudoList(specific), 'requiretty'), true);
    assert.equal(
      flag(parseSudoList(DEBIAN.replace('use_pty', 'requiretty, !requiretty')), 'requiretty'),
      false,
    );
  });

  it('tells a rule that asks for a password, runs as root or takes arguments', () => {
    const list = parseSudoList(
      `User hubapps may run the following commands on vm:\n    (ALL) NOPASSWD: /bin/true, PASSWD: ${PROXY}\n`,
    );
    assert.deepEqual(ruleFor(list, PROXY), {
      line: `(ALL) NOPASSWD: /bin/true, PASSWD: ${PROXY}`,
      nopasswd: false,
      asRoot: true,
      noArguments: false,
      excludesUid0: false,
    });
  });

  it('knows when the user may not run anything', () => {
    assert.equal(parseSudoList('User hubapps is not allowed to run sudo on vm.\n').allowed, false);
  });
});

describe('reading sudo -l when sudo wraps long lines', () => {
  it('joins the wrapped lines of the defaults and of a rule back together', () => {
    const wrapped = `Matching Defaults entries for nobody on vm:
    env_reset, mail_badpass,
    secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin,
    use_pty

User nobody may run the following commands on vm:
    (%nogroup, !root) NOPASSWD:
        /opt/hubapps-t-aaaaaaaa/bin/hubapps-proxy-with-a-long-name
        ""
    (ALL) /bin/true
`;
    const list = parseSudoList(wrapped);
    assert.deepEqual(list.defaults, [
      'env_reset',
      'mail_badpass',
      'secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin',
      'use_pty',
    ]);
    assert.equal(list.rules.length, 2);
    assert.equal(
      ruleFor(list, '/opt/hubapps-t-aaaaaaaa/bin/hubapps-proxy-with-a-long-name')?.noArguments,
      true,
    );
  });
});
