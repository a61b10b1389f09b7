import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkPortGuard, type GuardProbes } from '../../../../src/ops/doctor/port-guard-checks.js';
import { requireRootOrSkip } from '../../../helpers/prereq.js';
import { tmpDir, type TmpDir } from '../../../helpers/tmp.js';

const PROXY = '/usr/lib/hubapps/bin/hubapps-proxy';

function listing(rules: string[]): string {
  return `User hubapps may run the following commands on host:\n${rules.map((r) => `    ${r}\n`).join('')}`;
}

describe('hubapps doctor: the port guard', () => {
  let tmp: TmpDir;
  let helper: string;
  let catalog: string;
  const context = (
    guard: Record<string, unknown>,
    launcher = 'sudo',
    root = true,
  ): DoctorContext => {
    const settings = configSchema.parse({
      launcher,
      catalog_dir: catalog,
      port_guard: { command: helper, ...guard },
    }) as never;
    return {
      configFile: '/etc/hubapps/hubapps.yaml',
      config: undefined,
      settings,
      serviceUser: 'hubapps',
      account: undefined,
      root,
      sudoersHint: '',
    };
  };
  const probes = (
    rules: string[],
    table: { code: number; stdout?: string; error?: string },
    bindLoaded = true,
  ): GuardProbes => ({
    bindGuardLoaded: () => bindLoaded,
    sudoList: () => ({ code: 0, stdout: listing(rules), stderr: '' }),
    nftTable: () => ({
      code: table.code,
      stdout: table.stdout ?? '',
      stderr: table.code ? 'Error: No such file or directory' : '',
      ...(table.error ? { error: table.error } : {}),
    }),
  });
  beforeEach(async () => {
    tmp = await tmpDir('doctor-guard');
    helper = path.join(tmp.path, 'hubapps-port-guard');
    catalog = path.join(tmp.path, 'apps.d');
    fs.mkdirSync(catalog);
    fs.writeFileSync(
      path.join(catalog, 'shiny.yaml'),
      "title: Shiny\ncommand: [/usr/bin/R, '{port}']\n",
    );
    fs.writeFileSync(
      path.join(catalog, 'files.yaml'),
      "title: Files\ncommand: [/usr/bin/python3, '{unix_socket}']\n",
    );
  });
  afterEach(() => tmp.remove());

  it('needs no guard with the local launcher, and warns when it is off, naming the {port} apps anyone can reach', () => {
    assert.equal(checkPortGuard(context({}, 'local'))[0]!.status, 'ok');
    const [off] = checkPortGuard(context({ mode: 'off' }));
    assert.equal(off!.status, 'warn');
    assert.match(off!.what, /any local account can connect to the \{port\} of shiny$/);
  });

  it('fails under required, and warns under auto, when the helper is missing', () => {
    const [required] = checkPortGuard(context({ mode: 'required' }), probes([], { code: 0 }));
    assert.equal(required!.status, 'FAIL');
    assert.match(required!.what, /helper .*hubapps-port-guard does not exist/);
    assert.match(required!.fix!, /hubapps install/);
    const [auto] = checkPortGuard(context({}), probes([], { code: 0 }));
    assert.equal(auto!.status, 'warn');
    assert.match(auto!.what, /apps start unguarded .* shiny$/);
  });

  it('checks the sudoers rule and the table, and counts the ports held', function () {
    requireRootOrSkip(this, 'needs root (the helper it checks must be root-owned)');
    fs.writeFileSync(helper, '#!/bin/sh\n', { mode: 0o755 });
    const proxyOnly = [`(%hubapps-users, !root, !#0) NOPASSWD: ${PROXY} ""`];
    const both = [...proxyOnly, `(root) NOPASSWD: ${helper}`];
    const ctx = context({ mode: 'required' });
    assert.match(
      checkPortGuard(ctx, probes(proxyOnly, { code: 0 }))[0]!.what,
      /no sudoers rule lets hubapps run .* as root/,
    );
    assert.match(
      checkPortGuard(ctx, probes([`(root) ${helper}`], { code: 0 }))[0]!.what,
      /no sudoers rule/,
      'a rule that asks for a password',
    );
    const missing = checkPortGuard(ctx, probes(both, { code: 1 }))[0]!;
    assert.equal(missing.status, 'FAIL');
    assert.match(missing.what, /table inet hubapps is missing/);
    assert.match(missing.fix!, /systemctl restart hubapps/);
    assert.match(
      checkPortGuard(ctx, probes(both, { code: null as never, error: 'nft: ENOENT' }))[0]!.fix!,
      /apt-get install nftables/,
    );
    const good = checkPortGuard(
      ctx,
      probes(both, {
        code: 0,
        stdout:
          'set owners { elements = { 20001 . 1001, 20002 . 1002 } }\nset forwards { elements = { 6006 . 1001 } }',
      }),
    )[0]!;
    assert.equal(good.status, 'ok');
    assert.match(good.what, /2 port\(s\) held for their owners, 1 forwarded port\(s\)/);
    const bindOk = checkPortGuard(ctx, probes(both, { code: 0 }))[1]!;
    assert.deepEqual(
      [bindOk.status, bindOk.what],
      ['ok', 'bind guard: only root and their owners may bind the ports of port_range'],
    );
    const unbound = checkPortGuard(ctx, probes(both, { code: 0 }, false))[1]!;
    assert.equal(unbound.status, 'FAIL');
    assert.match(unbound.what, /bind guard is not loaded \(no pins in \/sys\/fs\/bpf\/hubapps\)/);
    const autoUnbound = checkPortGuard(context({}), probes(both, { code: 0 }, false))[1]!;
    assert.equal(autoUnbound.status, 'warn');
    const off = checkPortGuard(context({ bind: false }), probes(both, { code: 0 }, false))[1]!;
    assert.equal(off.status, 'warn');
    assert.match(off.what, /port_guard.bind is false: any local account can hold the ports/);
    fs.chmodSync(helper, 0o777);
    assert.match(
      checkPortGuard(ctx, probes(both, { code: 0 }))[0]!.what,
      /must be root's and writable by nobody else/,
    );
  });
});
