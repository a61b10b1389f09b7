import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proxyArgs, proxyCommandLine, spawnCommand } from '../../../../src/proxy/command-line.js';
import type { SlurmSubmitRequest } from '../../../../src/protocol/wire.js';
import { assertRunsWithNodeFlags } from '../../../helpers/node-flags.js';
import { Catalog, makeSpec, type FakeService } from '../../../unit/proxy/harness.js';

/** Stands in for sbatch: keeps the script it gets on stdin and accepts the job as 4242. */
const FAKE_SBATCH = `#!/bin/sh
cat > "$(dirname "$0")/script"
echo 4242
`;

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('close', (code) => resolve({ code, out }));
    child.stdin.end(stdin);
  });
}

describe('hubapps-proxy submitting a server as a Slurm job (sbatch faked)', function () {
  this.timeout(30_000);
  let catalog: Catalog;
  let bin: string;
  before(async () => {
    catalog = await Catalog.create();
    catalog.app('web', 'title: Web\ncommand: [/bin/true, "{port}"]\nslurm:\n  mem_mb: 512\n');
    bin = join(catalog.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'sbatch'), FAKE_SBATCH);
    chmodSync(join(bin, 'sbatch'), 0o755);
  });
  after(() => catalog.remove());

  it("hands sbatch a script that runs the job's proxy with the proxy's V8 flags, as on the host", async () => {
    const service = { url: 'http://127.0.0.1:9/services/hubapps/' } as FakeService;
    const request: SlurmSubmitRequest = {
      op: 'slurm-submit',
      version: 1,
      start: makeSpec({ catalog, service, app: 'web' }, 5000),
    };
    const proxy = spawnCommand(proxyCommandLine(proxyArgs(catalog.dir)));
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const r = await run(proxy.file, proxy.args, env, `${JSON.stringify(request)}\n`);
    assert.equal(r.code, 0, r.out);
    const script = readFileSync(join(bin, 'script'), 'utf8');
    const specFile = /< (\S+)\n$/.exec(script)?.[1];
    if (specFile) rmSync(specFile, { force: true }); // the job would have read and deleted it
    const exec = /^#!\/bin\/sh\nexec (.*) < \S+\n$/.exec(script)?.[1];
    assert.ok(exec, script);
    assertRunsWithNodeFlags(exec.split(' '));
    assert.deepEqual(exec.split(' ').slice(0, 1), [process.execPath]);
    assert.ok(exec.endsWith(`--catalog-dir ${catalog.dir}`), exec);
  });
});
