import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { repoRoot } from '../system/harness-install.js';

/** The shell block under "## Examples" in docs/api.md, without its three site-specific assignments. */
function exampleLines(): string {
  const doc = readFileSync(join(repoRoot(), 'docs', 'api.md'), 'utf8');
  const block = /## Examples[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/api.md has no sh block under "## Examples"');
  return block
    .split('\n')
    .filter((l) => !/^(API|TOKEN|APP)=/.test(l))
    .join('\n');
}

describe('docs/api.md: the example curl lines, run as written against npm run demo', function () {
  this.timeout(90_000);
  let demo: ChildProcess;
  let output = '';
  const token = randomBytes(18).toString('base64url');
  let api = '';

  before(async () => {
    const port = await freePort();
    demo = spawn(
      process.execPath,
      [join(repoRoot(), 'dist', 'src', 'demo', 'main.js'), '--port', String(port)],
      {
        cwd: repoRoot(),
        env: { ...process.env, HUBAPPS_DEMO_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    api = await waitFor(() => /^\s+API:\s+(\S+)$/m.exec(output)?.[1], {
      timeout: 30_000,
      what: `the demo to print its API URL; it said:\n${output}`,
    });
  });
  after(async () => {
    if (!demo || demo.exitCode !== null) return;
    const gone = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGINT');
    await gone;
  });

  it('answers every example with 2xx, with the demo token as TOKEN and its hello app as APP', async () => {
    // Each curl also prints its status on a line of its own; the lines themselves are unchanged.
    const script = `set -u\ncurl() { command curl -sS -w '\\nHTTP-STATUS %{http_code}\\n' "$@"; }\n${exampleLines()}`;
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const sh = spawn('bash', ['-c', script], {
        env: { ...process.env, API: api, TOKEN: token, APP: 'hello' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      sh.stdout.on('data', (d: Buffer) => (out += d.toString()));
      sh.stderr.on('data', (d: Buffer) => (out += d.toString()));
      sh.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(result.code, 0, result.out);
    const statuses = [...result.out.matchAll(/^HTTP-STATUS (\d+)$/gm)].map((m) => Number(m[1]));
    const curls = exampleLines()
      .split('\n')
      .filter((l) => l.startsWith('curl ')).length;
    assert.equal(statuses.length, curls, result.out);
    assert.deepEqual(
      statuses.filter((s) => s < 200 || s > 299),
      [],
      result.out,
    );
    assert.match(
      result.out,
      /event: done\ndata: .*"ready":true/,
      'the progress stream followed the start until it was ready',
    );
    assert.match(result.out, /"state":"stopped"/, 'the DELETE answered once the server stopped');
    assert.match(result.out, /hubapps_/, 'the metrics are Prometheus text');
  });
});
