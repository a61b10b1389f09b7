import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { settingsFor } from '../../../src/limits/group-settings.js';
import { cullerFor } from '../../../src/lifecycle/culler.js';
import { HubappsError } from '../../../src/errors.js';
import { configFailure } from '../../helpers/config-error.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'chp-token' };

describe('group_settings', () => {
  let dir: string;
  let n = 0;
  const load = (text: string) => {
    const path = join(dir, `hubapps-${++n}.yaml`);
    writeFileSync(path, text);
    return loadConfig(path, undefined, ENV);
  };
  const GLOBAL = [
    'limits: {servers_per_user: 5}',
    'culler: {idle_timeout: 3600, max_age: 86400}',
    'server_limits: {mem_mb: 2048, max_mem_mb: 8192, user_mem_mb: 16384}',
  ].join('\n');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-groupset-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a user in no listed group the global values', () => {
    const cfg = load(`${GLOBAL}\ngroup_settings:\n  staff: {servers_per_user: 20}\n`);
    const s = settingsFor(cfg, ['hubapps-users', 'students']);
    assert.equal(s.servers_per_user, 5);
    assert.deepEqual(s.culler, { idle_timeout: 3600, max_age: 86400 });
    assert.equal(s.server_limits.max_mem_mb, 8192);
    assert.equal(s.server_limits.cgroups, cfg.server_limits.cgroups);
  });

  it("replaces exactly the keys a member's group sets, also with lower values", () => {
    const cfg = load(
      `${GLOBAL}\ngroup_settings:\n  students: {servers_per_user: 1, idle_timeout: 600, max_mem_mb: 4096}\n`,
    );
    const s = settingsFor(cfg, ['students']);
    assert.equal(s.servers_per_user, 1);
    assert.deepEqual(s.culler, { idle_timeout: 600, max_age: 86400 });
    assert.equal(s.server_limits.max_mem_mb, 4096);
    assert.equal(s.server_limits.mem_mb, 2048);
    assert.equal(s.server_limits.user_mem_mb, 16384);
  });

  it('gives a member of several groups the most generous value key by key, 0 beating any number', () => {
    const cfg = load(
      [
        GLOBAL,
        'group_settings:',
        '  students: {servers_per_user: 1, idle_timeout: 600, max_mem_mb: 4096}',
        '  gpu: {servers_per_user: 2, max_age: 0, mem_mb: 4096}',
        '  staff: {idle_timeout: 0, user_mem_mb: 0}',
      ].join('\n'),
    );
    const s = settingsFor(cfg, ['students', 'gpu']);
    // gpu's profile keeps the global max_mem_mb (8192), which beats students' 4096.
    assert.equal(s.servers_per_user, 2);
    assert.deepEqual(s.culler, { idle_timeout: 3600, max_age: 0 });
    assert.equal(s.server_limits.mem_mb, 4096);
    assert.equal(s.server_limits.max_mem_mb, 8192);
    const all = settingsFor(cfg, ['staff', 'students', 'gpu', 'staff']);
    assert.deepEqual(all.culler, { idle_timeout: 0, max_age: 0 });
    assert.equal(all.server_limits.user_mem_mb, 0);
    assert.equal(all.servers_per_user, 5);
  });

  it('ignores a group named like an Object property', () => {
    const cfg = load(`${GLOBAL}\ngroup_settings:\n  staff: {servers_per_user: 9}\n`);
    assert.equal(settingsFor(cfg, ['constructor', 'toString']).servers_per_user, 5);
  });

  it('refuses an empty entry, a bad group name and an unknown key, naming the key', () => {
    const empty = configFailure(() => load('group_settings:\n  staff: {}\n'));
    assert.equal(empty.key, 'group_settings.staff');
    assert.match(empty.message, /set at least one key/);
    const name = configFailure(() => load('group_settings:\n  "1234": {max_age: 5}\n'));
    assert.match(name.message, /group_settings.*must be a Unix group name/);
    const unknown = configFailure(() => load('group_settings:\n  staff: {idle: 5}\n'));
    assert.match(unknown.message, /unknown key 'idle'/);
    const negative = configFailure(() => load('group_settings:\n  staff: {max_age: -1}\n'));
    assert.equal(negative.key, 'group_settings.staff.max_age');
  });

  it('refuses a group that sets its default memory or cores above its own cap', () => {
    const mem = configFailure(() => load(`${GLOBAL}\ngroup_settings:\n  staff: {mem_mb: 9000}\n`));
    assert.equal(mem.key, 'group_settings.staff.mem_mb');
    assert.match(mem.message, /group staff sets mem_mb 9000 above its max_mem_mb 8192/);
    const cpus = configFailure(() => load('group_settings:\n  staff: {cpus: 2, max_cpus: 1.5}\n'));
    assert.equal(cpus.key, 'group_settings.staff.cpus');
  });

  it('gives a group that lowers a cap below the global default that cap as its default', () => {
    const cfg = load(`${GLOBAL}\ngroup_settings:\n  students: {max_mem_mb: 1024, max_cpus: 0.5}\n`);
    const s = settingsFor(cfg, ['students']);
    assert.equal(s.server_limits.mem_mb, 1024);
    assert.equal(s.server_limits.max_mem_mb, 1024);
    assert.equal(s.server_limits.cpus, 0.5);
    assert.equal(settingsFor(cfg, []).server_limits.mem_mb, 2048);
  });

  describe('cullerFor', () => {
    it("reads the owner's groups at each call, and falls back to the global culler for a refused user", async () => {
      const cfg = load(`${GLOBAL}\ngroup_settings:\n  staff: {idle_timeout: 0}\n`);
      let groups = ['staff'];
      const users = {
        check: async (name: string) => {
          if (name === 'gone') throw new HubappsError('user_not_in_group', 'left the group');
          return { name, uid: 1001, gid: 1001, home: '/home/x', shell: null, groups };
        },
        appAllowed: () => true,
      };
      const deps = { config: cfg, users } as unknown as Parameters<typeof cullerFor>[0];
      assert.equal((await cullerFor(deps, 'alice')).idle_timeout, 0);
      groups = ['hubapps-users'];
      assert.equal((await cullerFor(deps, 'alice')).idle_timeout, 3600);
      assert.equal((await cullerFor(deps, 'gone')).idle_timeout, 3600);
    });

    it('asks no user directory when no group settings are configured', async () => {
      const cfg = load(GLOBAL);
      const users = {
        check: () => assert.fail('no lookup expected'),
        appAllowed: () => true,
      };
      const deps = { config: cfg, users } as unknown as Parameters<typeof cullerFor>[0];
      assert.deepEqual(await cullerFor(deps, 'alice'), cfg.culler);
    });
  });
});
