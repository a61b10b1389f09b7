import assert from 'node:assert/strict';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkSudoEnvironment } from '../../../../src/ops/doctor/sudo-env-checks.js';
import { parseSudoList, ruleFor } from '../../../../src/ops/doctor/sudo-list.js';
import { configSchema } from '../../../../src/config/schema.js';

const PROXY = '/usr/lib/hubapps/bin/hubapps-proxy';
const ctx = {
  settings: configSchema.parse({ proxy_command: PROXY }),
  sudoersHint: '/etc/sudoers.d/hubapps',
} as unknown as DoctorContext;

/** `sudo -l -U hubapps` as sudo 1.9 prints it, with extra global Defaults and a rule of our choosing. */
function listing(
  globals: string,
  rule = `(%hubapps-users, !root, !#0) NOPASSWD: ${PROXY} ""`,
): string {
  return `Matching Defaults entries for hubapps on vm:
    env_reset, mail_badpass, use_pty${globals}

Runas and Command-specific defaults for hubapps:
    Defaults!${PROXY} env_reset, !setenv

User hubapps may run the following commands on vm:
    ${rule}
`;
}

const verdict = (text: string) => checkSudoEnvironment(ctx, parseSudoList(text))[0]!;

describe("hubapps doctor: sudo settings that would let the caller shape the proxy's environment", () => {
  it('passes the rule as systemd/hubapps.sudoers writes it, and sees its !#0', () => {
    assert.equal(verdict(listing('')).status, 'ok');
    assert.equal(ruleFor(parseSudoList(listing('')), PROXY)?.excludesUid0, true);
  });

  it('fails when !env_reset wins for the proxy', () => {
    const text = listing('').replace(
      `Defaults!${PROXY} env_reset, !setenv`,
      `Defaults!${PROXY} !env_reset`,
    );
    const v = verdict(text);
    assert.equal(v.status, 'FAIL');
    assert.match(v.what, /!env_reset/);
    assert.match(v.fix!, /env_reset, !setenv/);
  });

  it('fails on a SETENV tag on the rule', () => {
    const v = verdict(listing('', `(%hubapps-users, !root, !#0) NOPASSWD: SETENV: ${PROXY} ""`));
    assert.equal(v.status, 'FAIL');
    assert.match(v.what, /SETENV tag/);
  });

  it('fails when env_keep keeps NODE_OPTIONS or another NODE_ variable', () => {
    const v = verdict(listing(', env_keep+="NODE_OPTIONS HOME"'));
    assert.equal(v.status, 'FAIL');
    assert.match(v.what, /env_keep keeps NODE_OPTIONS/);
    assert.equal(verdict(listing(', env_keep+="HOME EDITOR"')).status, 'ok');
  });

  it('fails when setenv is on and nothing turns it off for the proxy', () => {
    const text = listing(', setenv').replace(
      `Defaults!${PROXY} env_reset, !setenv`,
      `Defaults!${PROXY} env_reset`,
    );
    assert.match(verdict(text).what, /setenv/);
  });
});
