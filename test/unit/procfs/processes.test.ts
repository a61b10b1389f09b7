import assert from 'node:assert/strict';
import { mentions } from '../../../src/procfs/processes.js';
import {
  PROXY_ENTRIES,
  PROXY_ESM_MAIN,
  PROXY_MAIN,
  PROXY_MAINS,
  PROXY_MODULES_MAIN,
} from '../../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../../src/proxy/node-flags.js';

const LIB = '/usr/lib/hubapps/lib/dist/src/proxy';
const argvOf = (main: string) => [
  '/usr/bin/node',
  ...PROXY_NODE_FLAGS,
  main,
  '--catalog-dir',
  '/etc/hubapps/apps.d',
];

describe("recognising a proxy by its command line (adoption after the service's restart)", () => {
  it('knows a proxy of the installed wrapper by its entry point, whichever build started it', () => {
    for (const entry of ['hubapps-proxy.cjs', 'hubapps-proxy.js', 'main.js'])
      assert.ok(mentions(argvOf(`${LIB}/${entry}`), PROXY_ENTRIES), entry);
  });

  it("knows the local launcher's proxies by this installation's full paths, the code-cache loader's and the earlier ones", () => {
    for (const main of [PROXY_MAIN, PROXY_ESM_MAIN, PROXY_MODULES_MAIN])
      assert.ok(mentions(argvOf(main), PROXY_MAINS), main);
    assert.ok(!mentions(argvOf(`${LIB}/hubapps-proxy.cjs`), PROXY_MAINS), 'another installation');
  });

  it('does not take the service or another program for a proxy', () => {
    for (const argv of [
      ['/usr/bin/node', '/usr/lib/hubapps/lib/dist/src/cli.js', 'serve'],
      ['/usr/bin/python3', '-m', 'http.server'],
      [],
    ])
      assert.ok(!mentions(argv, PROXY_ENTRIES), argv.join(' '));
  });

  it('takes one needle as well as several', () => {
    assert.ok(mentions(['a', 'xbcx'], 'bc'));
    assert.ok(!mentions(['a', 'b'], 'ab'));
  });
});
