import assert from 'node:assert/strict';
import {
  checkPlaceholders,
  findPlaceholders,
  parseTemplate,
} from '../../../src/catalog/placeholders.js';
import { PLACEHOLDERS, type PlaceholderValues } from '../../../src/catalog/types.js';
import { expandPlaceholders } from '../../../src/proxy/app/placeholders.js';

describe('placeholder syntax in app templates', () => {
  it('finds the placeholders a template uses, each once, in order', () => {
    assert.deepEqual(findPlaceholders('--www-port={port} {home}/x {port}'), ['port', 'home']);
    assert.deepEqual(findPlaceholders('plain text'), []);
  });

  it('reads {{ and }} as literal braces, not as placeholders', () => {
    assert.deepEqual(findPlaceholders('{{port}}'), []);
    assert.deepEqual(parseTemplate('a{{b}}{user}c').parts, [
      { text: 'a{b}' },
      { name: 'user' },
      { text: 'c' },
    ]);
    assert.deepEqual(parseTemplate('{{{port}}}').parts, [
      { text: '{' },
      { name: 'port' },
      { text: '}' },
    ]);
  });

  it('accepts every known placeholder and no problems', () => {
    assert.deepEqual(
      checkPlaceholders('{port}{unix_socket}{base_url}{user}{server}{home}', 'f', 'k'),
      [],
    );
  });

  it('names an unknown placeholder with the file and key, and lists the known ones', () => {
    const [err, ...rest] = checkPlaceholders(
      '--x={portt}',
      '/etc/hubapps/apps.d/x.yaml',
      'command[1]',
    );
    assert.equal(rest.length, 0);
    assert.equal(err?.key, 'command[1]');
    assert.match(
      err?.message ?? '',
      /^\/etc\/hubapps\/apps\.d\/x\.yaml: key 'command\[1\]': unknown placeholder '\{portt\}' \(known: \{port\} \{unix_socket\}/,
    );
  });

  it('refuses stray braces and braces around anything but a lower-case name', () => {
    const messages = (t: string) => checkPlaceholders(t, 'f', 'k').map((e) => e.message);
    assert.match(messages('a{b')[0] ?? '', /unmatched '\{' at character 2/);
    assert.match(messages('a}b')[0] ?? '', /unmatched '\}' at character 2/);
    assert.match(messages('{Port}')[0] ?? '', /'\{Port\}' is not a placeholder/);
    assert.match(messages('{}')[0] ?? '', /'\{\}' is not a placeholder/);
    assert.equal(messages('{a{port}').length, 1);
  });

  it('accepts exactly the templates the proxy expands, and expands them the same way', () => {
    const values = Object.fromEntries(PLACEHOLDERS.map((p) => [p, `<${p}>`])) as PlaceholderValues;
    const pieces = ['{', '}', '{port}', '{user}', '{nope}', '{Home}', '{}', 'port', 'x', ' '];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const template = Array.from(
        { length: next() % 7 },
        () => pieces[next() % pieces.length],
      ).join('');
      let proxy: string | undefined;
      try {
        proxy = expandPlaceholders(template, values);
      } catch {
        proxy = undefined;
      }
      const ours = checkPlaceholders(template, 'f', 'k').length === 0;
      assert.equal(ours, proxy !== undefined, `disagreement on ${JSON.stringify(template)}`);
      if (proxy === undefined) continue;
      const expanded = parseTemplate(template)
        .parts.map((p) => ('name' in p ? values[p.name as keyof PlaceholderValues] : p.text))
        .join('');
      assert.equal(expanded, proxy, `different expansion of ${JSON.stringify(template)}`);
    }
  });
});
