import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { resolveSecret } from '../../../src/config/secrets.js';

const CFG = '/etc/hubapps/hubapps.yaml';

describe('resolving secret references', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-secrets-'));
    writeFileSync(join(dir, 'token'), '  s3cret  \nsecond line\n');
    writeFileSync(join(dir, 'blank'), '\nsecond line\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (ref: string, env: NodeJS.ProcessEnv, pattern: RegExp) =>
    assert.throws(
      () => resolveSecret(ref, CFG, 'chp.auth_token', env),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.key === 'chp.auth_token' &&
        err.file === CFG &&
        pattern.test(err.message),
    );

  it('reads env:NAME from the given environment', () => {
    assert.equal(resolveSecret('env:TOKEN', CFG, 'k', { TOKEN: 'abc' }), 'abc');
  });

  it('refuses an unset or empty environment variable, naming it', () => {
    refusal('env:TOKEN', {}, /environment variable TOKEN is not set \(from 'env:TOKEN'\)/);
    refusal('env:TOKEN', { TOKEN: '  ' }, /environment variable TOKEN is empty/);
  });

  it('reads the first line of file:/path, trimmed', () => {
    assert.equal(resolveSecret(`file:${join(dir, 'token')}`, CFG, 'k', {}), 's3cret');
  });

  it('refuses a missing secret file, a relative path and a file whose first line is empty', () => {
    refusal(`file:${join(dir, 'missing')}`, {}, /secret file .*missing does not exist/);
    refusal('file:relative/token', {}, /must be an absolute path/);
    refusal(`file:${join(dir, 'blank')}`, {}, /is empty on its first line/);
  });

  it('reads credential:NAME from $CREDENTIALS_DIRECTORY', () => {
    assert.equal(
      resolveSecret('credential:token', CFG, 'k', { CREDENTIALS_DIRECTORY: dir }),
      's3cret',
    );
  });

  it('refuses a credential without $CREDENTIALS_DIRECTORY, with a path in its name, or missing', () => {
    refusal('credential:token', {}, /needs \$CREDENTIALS_DIRECTORY.*LoadCredential=token:/);
    refusal('credential:../token', { CREDENTIALS_DIRECTORY: dir }, /must be a plain file name/);
    refusal(
      'credential:other',
      { CREDENTIALS_DIRECTORY: dir },
      /secret file .*other does not exist/,
    );
  });

  it('refuses anything that is not a reference, without echoing more than the reference', () => {
    refusal('vault:thing', {}, /is not a secret reference/);
  });
});
