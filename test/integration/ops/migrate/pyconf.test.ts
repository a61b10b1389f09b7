import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { HubappsError } from '../../../../src/errors.js';
import { parseConfig, PySyntaxError } from '../../../../src/ops/migrate/pyconf/parse.js';
import { translateConf } from '../../../../src/ops/migrate/pyconf/translate.js';

const CMD =
  'c.StandaloneProxyServer.command = ["/usr/bin/python3", "-m", "http.server", "{port}"]\n';

function refusalAt(src: string, line: number, pattern: RegExp): void {
  const t = translateConf(src, 'app');
  const hit = t.refusals.find((r) => r.line === line && pattern.test(r.message));
  assert.ok(
    hit,
    `expected a refusal on line ${line} matching ${pattern}, got ${JSON.stringify(t.refusals)}`,
  );
}

describe("reading traitlets config files with Python's parser, never running them", () => {
  describe('string literals', () => {
    const value = (literal: string) => {
      const [st] = parseConfig(`c.StandaloneProxyServer.name = ${literal}\n`);
      assert.equal(st?.kind, 'assign');
      return (st as { value?: unknown }).value;
    };
    it('decodes both quote styles and the usual escapes', () => {
      assert.equal(value(`'it\\'s'`), "it's");
      assert.equal(value(`"a\\tb\\n\\x41\\u00e9\\101"`), 'a\tb\nAéA');
    });
    it('keeps backslashes of raw strings and of unknown escapes, as Python does', () => {
      assert.equal(value(`r'\\d+\\n'`), '\\d+\\n');
      assert.equal(value(`'\\d'`), '\\d');
    });
    it('reads triple-quoted strings over several lines', () => {
      assert.equal(value(`"""one\ntwo"""`), 'one\ntwo');
    });
    it('joins adjacent strings into one, as Python does', () => {
      assert.equal(value(`'-m' 'http.server'`), '-mhttp.server');
    });
    it('refuses an unterminated string with its line', () => {
      assert.throws(
        () => parseConfig(`x = 1\ny = 'abc\n`),
        (err: unknown) => err instanceof PySyntaxError && err.line === 2,
      );
    });
  });

  describe('values and statements', () => {
    it('reads lists, tuples, dicts, numbers, True/False/None, with comments and trailing commas', () => {
      const [st] = parseConfig(
        `c.X.y = {  # a comment\n  'a': [1, -2.5, 0x10, 1_000,],\n  'b': (True, False, None),\n  'c': ('x'),\n}\n`,
      );
      assert.deepEqual((st as { value: unknown }).value, {
        a: [1, -2.5, 16, 1000],
        b: [true, false, null],
        c: 'x',
      });
    });
    it('continues a statement over a backslash line end and inside brackets, and reports its first line', () => {
      const sts = parseConfig(`\n# header\nc.X.a = \\\n  5\nc.X.b = [\n 'x',\n]\n`);
      assert.deepEqual(
        sts.map((s) => [s.line, (s as { value?: unknown }).value]),
        [
          [3, 5],
          [5, ['x']],
        ],
      );
    });
    it('splits statements at semicolons', () => {
      assert.equal(parseConfig('c.X.a = 1; c.X.b = 2\n').length, 2);
    });
    it('refuses an indented statement, as Python would', () => {
      assert.throws(
        () => parseConfig('c.X.a = 1\n  c.X.b = 2\n'),
        (err: unknown) => err instanceof PySyntaxError && err.line === 2,
      );
    });
    it('never runs the file: code in it has no effect', async () => {
      const { tmpDir } = await import('../../../helpers/tmp.js');
      const tmp = await tmpDir('pyconf');
      try {
        const marker = `${tmp.path}/ran`;
        parseConfig(`import os\nos.system('touch ${marker}')\nc.X.y = open('${marker}', 'w')\n`);
        assert.equal(existsSync(marker), false);
      } finally {
        await tmp.remove();
      }
    });
    it('refuses a number Python cannot hold (1e999 is infinity) and reads named escapes', () => {
      const [big, named] = parseConfig("c.X.y = 1e999\nc.X.z = '\\N{DEGREE SIGN}'\n") as Array<{
        problem?: string;
        value?: unknown;
      }>;
      assert.match(big!.problem ?? '', /not a literal value/);
      assert.equal(named!.value, '°');
    });
    it('says what to install when python3 cannot be run', () => {
      assert.throws(
        () => parseConfig('c.X.y = 1\n', '/nonexistent/python3'),
        (err: unknown) =>
          err instanceof HubappsError &&
          err.code === 'command_failed' &&
          /needs python3/.test(err.message),
      );
    });
    it('keeps what is not a literal as a problem instead of guessing', () => {
      const [st] = parseConfig('c.X.y = os.environ["HOME"]\n');
      assert.match((st as { problem?: string }).problem ?? '', /'os' is a variable or a function/);
    });
  });
});

describe('translating a standalone proxy config into an app file', () => {
  it('takes the command, environment, timeout, absolute_url and the launcher title', () => {
    const t = translateConf(
      `${CMD}c.StandaloneProxyServer.environment = {'R_LIBS_USER': '{base_url}lib'}\nc.StandaloneProxyServer.timeout = 30\nc.StandaloneProxyServer.absolute_url = True\nc.StandaloneProxyServer.launcher_entry = {'title': 'Files', 'category': 'Other'}\n`,
      'files',
    );
    assert.deepEqual(t.refusals, []);
    assert.deepEqual(t.app, {
      title: 'Files',
      command: ['/usr/bin/python3', '-m', 'http.server', '{port}'],
      environment: { R_LIBS_USER: '{base_url}lib' },
      ready: { timeout: 30 },
      strip_prefix: false,
    });
  });

  it('accepts c.ServerProcess settings too, which the standalone proxy inherits', () => {
    assert.deepEqual(
      translateConf('c.ServerProcess.command = ["/bin/app", "{port}"]\n', 'x').app.command,
      ['/bin/app', '{port}'],
    );
  });

  it("turns the role's utils import and Origin patch into a note that hubapps checks Origin itself", () => {
    const t = translateConf(
      `c = get_config()  # noqa\nfrom utils import *  # helpers\ncustom_check_origin_patch()\n${CMD}`,
      'x',
    );
    assert.deepEqual(t.refusals, []);
    assert.deepEqual(
      t.notes.map((n) => n.line),
      [2, 3],
    );
    assert.match(t.notes[1]!.message, /checks the Origin against public_url itself/);
  });

  it('notes settings hubapps decides itself (port, address) and that login becomes mandatory', () => {
    const t = translateConf(
      `${CMD}c.StandaloneProxyServer.port = 8000\nc.StandaloneProxyServer.address = 'localhost'\nc.StandaloneProxyServer.skip_authentication = True\n`,
      'x',
    );
    assert.deepEqual(t.refusals, []);
    assert.deepEqual(
      t.notes.map((n) => n.line),
      [2, 3, 4],
    );
    assert.match(t.notes[2]!.message, /no longer open to anyone/);
  });

  it('notes a program found through PATH, which hubapps sets to system directories', () => {
    const t = translateConf('c.StandaloneProxyServer.command = ["voila", "--port={port}"]\n', 'x');
    assert.match(t.notes.at(-1)!.message, /'voila' is looked up in PATH/);
  });

  it('keeps unix_socket = True when the command uses {unix_socket}, and refuses it when nothing does', () => {
    assert.deepEqual(
      translateConf(
        'c.StandaloneProxyServer.command = ["/bin/app", "{unix_socket}"]\nc.StandaloneProxyServer.unix_socket = True\n',
        'x',
      ).refusals,
      [],
    );
    refusalAt(
      'c.StandaloneProxyServer.command = ["/bin/app", "{port}"]\nc.StandaloneProxyServer.unix_socket = True\n',
      2,
      /does not use \{unix_socket\}|neither the command/,
    );
  });

  describe('refuses what it cannot translate, naming the line', () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['an import', `import os\n${CMD}`, 1, /`import os`: imports cannot be translated/],
      ['a function call', `${CMD}setup_things()\n`, 2, /function calls cannot be translated/],
      ['a variable', `port = 8000\n${CMD}`, 1, /only settings of the form/],
      [
        'an f-string',
        'c.StandaloneProxyServer.command = [f"/bin/{x}"]\n',
        1,
        /f-strings are computed by Python/,
      ],
      [
        'a computed value',
        `${CMD}c.StandaloneProxyServer.environment = {"HOME": os.environ["HOME"]}\n`,
        2,
        /'os' is a variable or a function/,
      ],
      [
        'string arithmetic',
        'c.StandaloneProxyServer.command = ["/bin/" + "app"]\n',
        1,
        /combined with '\+'/,
      ],
      [
        'an unknown trait',
        `${CMD}c.StandaloneProxyServer.frobnicate = 1\n`,
        2,
        /'frobnicate' is not a setting/,
      ],
      [
        "JupyterHub's own settings",
        `${CMD}c.Spawner.cmd = "x"\n`,
        2,
        /c\.Spawner is JupyterHub's configuration/,
      ],
      [
        'the notebook extension config',
        `c.ServerProxy.servers = {}\n${CMD}`,
        1,
        /notebook-server extension/,
      ],
      [
        'a fixed app port',
        `${CMD}c.StandaloneProxyServer.server_port = 9999\n`,
        2,
        /fixed port 9999/,
      ],
      [
        'a fixed socket path',
        `${CMD}c.StandaloneProxyServer.unix_socket = "/tmp/app.sock"\n`,
        2,
        /shared by every user/,
      ],
      [
        'mappath',
        `${CMD}c.StandaloneProxyServer.mappath = {"/": "/lab"}\n`,
        2,
        /no equivalent of mappath/,
      ],
      [
        'a wrongly typed value',
        'c.StandaloneProxyServer.command = "python3 -m http.server"\n',
        1,
        /must be a list of strings/,
      ],
      [
        'augmented assignment',
        `${CMD}c.StandaloneProxyServer.command += ["x"]\n`,
        2,
        /'\+=' changes a value that only Python knows/,
      ],
      [
        'an unterminated string',
        'c.StandaloneProxyServer.command = ["/bin/app]\n',
        1,
        /unterminated string/,
      ],
    ];
    for (const [what, src, line, pattern] of cases)
      it(`refuses ${what} on line ${line}`, () => refusalAt(src, line, pattern));

    it('refuses a file without a command', () => {
      refusalAt("c.StandaloneProxyServer.name = 'x'\n", 0, /no c\.StandaloneProxyServer\.command/);
    });
  });
});
