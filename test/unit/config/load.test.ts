import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_CONFIG } from '../../../scripts/config-docs/render.js';
import { DEFAULTS_FILE, loadConfig } from '../../../src/config/load.js';
import { ConfigErrorList } from '../../../src/config/error-list.js';
import { configFailure } from '../../helpers/config-error.js';
import { scratchFiles } from '../../helpers/scratch-files.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'chp-token' };

describe('loading hubapps.yaml', () => {
  const scratch = scratchFiles('hubapps-t-config-');
  const file = scratch.file;
  const failure = configFailure;

  it('uses the defaults for every key when no file is given, and says so as the file name', () => {
    const cfg = loadConfig(undefined, undefined, ENV);
    assert.equal(cfg.file, DEFAULTS_FILE);
    assert.equal(cfg.listen.port, 10101);
    assert.equal(cfg.listen.host, '127.0.0.1');
    assert.deepEqual(cfg.port_range, { min: 20000, max: 29999 });
    assert.equal(cfg.chp.api_url, 'http://127.0.0.1:8001');
    assert.equal(cfg.chp.auth_token, 'chp-token');
    assert.equal(cfg.admin_token, undefined);
    assert.equal(cfg.launcher, 'sudo');
  });

  it('treats an empty file (or one with only comments) as all defaults', () => {
    for (const text of ['', '# nothing configured yet\n']) {
      const path = file(text);
      const cfg = loadConfig(path, undefined, ENV);
      assert.equal(cfg.file, path);
      assert.equal(cfg.min_uid, 1000);
    }
  });

  it('reads nested keys from YAML and merges overrides on top without losing sibling keys', () => {
    const path = file(
      'listen:\n  port: 12000\nchp:\n  api_url: http://127.0.0.1:9001\nallowed_group: staff\n',
    );
    const cfg = loadConfig(
      path,
      { listen: { host: '127.0.0.2' }, chp: { register_service_route: true } },
      ENV,
    );
    assert.deepEqual(cfg.listen, { host: '127.0.0.2', port: 12000 });
    assert.equal(cfg.chp.api_url, 'http://127.0.0.1:9001');
    assert.equal(cfg.chp.register_service_route, true);
    assert.equal(cfg.allowed_group, 'staff');
  });

  it('refuses a value of the wrong type and names the file and the dotted key', () => {
    const path = file('listen:\n  port: eighty\n');
    const err = failure(() => loadConfig(path, undefined, ENV));
    assert.equal(err.key, 'listen.port');
    assert.match(err.message, new RegExp(`^${path}: key 'listen\\.port': .*expected number`));
  });

  it('refuses jupyterhub.server_tokens_from_hub without the hub to issue the tokens, naming the key', () => {
    const err = failure(() =>
      loadConfig(file('jupyterhub:\n  server_tokens_from_hub: true\n'), undefined, ENV),
    );
    assert.equal(err.key, 'jupyterhub.server_tokens_from_hub');
    assert.match(err.message, /needs api_url and api_token/);
  });

  it('refuses an unknown key and suggests the nearest known key', () => {
    const err = failure(() => loadConfig(file('log_levl: debug\n'), undefined, ENV));
    assert.match(err.message, /: unknown key 'log_levl' \(did you mean 'log_level'\?\)$/);
  });

  it('refuses an unknown nested key, naming the section, and gives no hint when nothing is close', () => {
    const path = file('chp:\n  apiurl: http://127.0.0.1:1\n  colour: blue\n');
    const err = failure(() => loadConfig(path, undefined, ENV));
    const lines = err.message.split('\n');
    assert.deepEqual(lines, [
      `${path}: key 'chp': unknown key 'apiurl' (did you mean 'api_url'?)`,
      `${path}: key 'chp': unknown key 'colour'`,
    ]);
  });

  it('refuses a bad URL with the message format admins grep for', () => {
    const path = file('chp:\n  api_url: not a url\n');
    const err = failure(() => loadConfig(path, undefined, ENV));
    assert.equal(err.message, `${path}: key 'chp.api_url': Invalid URL`);
  });

  it('lists every problem of the file at once, one per line', () => {
    const path = file(
      'public_url: nope\nmin_uid: 0\nport_range: {min: 60000, max: 50000}\nlaunchr: sudo\n',
    );
    const err = failure(() => loadConfig(path, undefined, ENV));
    assert.ok(err instanceof ConfigErrorList);
    assert.equal(err.problems.length, 4);
    const lines = err.message.split('\n');
    assert.equal(lines.length, 4);
    for (const line of lines) assert.ok(line.startsWith(`${path}: `), line);
    assert.ok(lines.some((l) => l.includes("key 'public_url'")));
    assert.ok(lines.some((l) => l.includes("key 'min_uid'")));
    assert.ok(lines.some((l) => l.includes("key 'port_range': min must not be greater than max")));
    assert.ok(lines.some((l) => l.includes("unknown key 'launchr' (did you mean 'launcher'?)")));
  });

  it('refuses a secret written in plain text instead of a reference', () => {
    const err = failure(() => loadConfig(file('chp:\n  auth_token: hunter2\n'), undefined, ENV));
    assert.equal(err.key, 'chp.auth_token');
    assert.match(err.message, /env:NAME/);
    assert.doesNotMatch(err.message, /hunter2/);
  });

  it('fails when chp.auth_token names an unset environment variable, naming the key and the variable', () => {
    const err = failure(() =>
      loadConfig(file('chp:\n  auth_token: env:HUBAPPS_T_UNSET\n'), undefined, {}),
    );
    assert.equal(err.key, 'chp.auth_token');
    assert.match(
      err.message,
      /key 'chp\.auth_token': environment variable HUBAPPS_T_UNSET is not set/,
    );
  });

  it('leaves admin_token unset when absent, resolves it when given, and fails naming it when its file is missing', () => {
    assert.equal(loadConfig(file(''), undefined, ENV).admin_token, undefined);
    const secretFile = join(scratch.dir, 'admin-token');
    writeFileSync(secretFile, 'admin-secret\n');
    assert.equal(
      loadConfig(file(`admin_token: file:${secretFile}\n`), undefined, ENV).admin_token,
      'admin-secret',
    );
    const missing = join(scratch.dir, 'no-such-token');
    const err = failure(() => loadConfig(file(`admin_token: file:${missing}\n`), undefined, ENV));
    assert.equal(err.key, 'admin_token');
    assert.match(err.message, new RegExp(`secret file ${missing} does not exist`));
  });

  it('resolves jupyterhub.spawner_token like the other secrets, and refuses one shared with admin_token or api_token', () => {
    const token = (name: string, value: string) => {
      const f = join(scratch.dir, name);
      writeFileSync(f, `${value}\n`);
      return f;
    };
    const spawner = token('spawner-token', 'spawner-secret');
    const admin = token('admin-token', 'admin-secret');
    assert.equal(
      loadConfig(file(`jupyterhub: {spawner_token: "file:${spawner}"}\n`), undefined, ENV)
        .jupyterhub.spawner_token,
      'spawner-secret',
    );
    assert.equal(loadConfig(file(''), undefined, ENV).jupyterhub.spawner_token, undefined);
    const same = token('same-token', 'admin-secret');
    const err = failure(() =>
      loadConfig(
        file(`admin_token: "file:${admin}"\njupyterhub: {spawner_token: "file:${same}"}\n`),
        undefined,
        ENV,
      ),
    );
    assert.equal(err.key, 'jupyterhub.spawner_token');
    assert.match(err.message, /not the same as admin_token/);
  });

  it('reports a missing config file by name', () => {
    const path = join(scratch.dir, 'does-not-exist.yaml');
    const err = failure(() => loadConfig(path, undefined, ENV));
    assert.equal(err.file, path);
    assert.equal(err.message, `${path}: config file not found`);
  });

  it('reports a YAML syntax error with the file and the line', () => {
    const path = file('listen:\n  port: 1\n  host: [oops\nmin_uid: 1000\n');
    const err = failure(() => loadConfig(path, undefined, ENV));
    assert.match(err.message, new RegExp(`^${path}: YAML syntax error at line 4, column \\d+: `));
  });

  it('reports a duplicated key as a YAML error with its line', () => {
    const err = failure(() => loadConfig(file('min_uid: 1000\nmin_uid: 2000\n'), undefined, ENV));
    assert.match(err.message, /YAML syntax error at line 2, column 1: Map keys must be unique/);
  });

  it('refuses a file that is not a mapping', () => {
    const err = failure(() => loadConfig(file('- a\n- b\n'), undefined, ENV));
    assert.match(err.message, /must be a YAML mapping of keys to values, not a list/);
  });

  it('loads the example shown in docs/configuration.md', () => {
    const credDir = mkdtempSync(join(scratch.dir, 'creds-'));
    writeFileSync(join(credDir, 'admin-token'), 'from-credential\n');
    const cfg = loadConfig(file(EXAMPLE_CONFIG), undefined, {
      ...ENV,
      CREDENTIALS_DIRECTORY: credDir,
    });
    assert.equal(cfg.public_url, 'https://hub.example.org');
    assert.equal(cfg.admin_token, 'from-credential');
    assert.equal(cfg.port_range.max, 20999);
  });
});
