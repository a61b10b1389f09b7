import assert from 'node:assert/strict';
import {
  PlaceholderError,
  expandPlaceholders,
  placeholdersIn,
} from '../../../../src/proxy/app/placeholders.js';

const values = {
  port: '5001',
  unix_socket: '/tmp/hubapps-1000/rstudio-3.sock',
  base_url: '/apps/alice/rstudio/',
  user: 'alice',
  server: 'rstudio',
  home: '/home/alice',
};

describe('placeholder expansion', () => {
  it('replaces every known placeholder', () => {
    assert.equal(expandPlaceholders('--www-port={port}', values), '--www-port=5001');
    assert.equal(
      expandPlaceholders('{home}/R/{user}-{server}', values),
      '/home/alice/R/alice-rstudio',
    );
    assert.equal(
      expandPlaceholders('--root={base_url} --sock={unix_socket}', values),
      '--root=/apps/alice/rstudio/ --sock=/tmp/hubapps-1000/rstudio-3.sock',
    );
  });

  it('leaves text without placeholders alone', () => {
    assert.equal(expandPlaceholders('--no-browser', values), '--no-browser');
    assert.equal(expandPlaceholders('', values), '');
  });

  it('reads {{ and }} as literal braces', () => {
    assert.equal(expandPlaceholders('{{"port": {port}}}', values), '{"port": 5001}');
    assert.equal(expandPlaceholders('{{port}}', values), '{port}');
  });

  it('refuses an unknown placeholder and names it and the known ones', () => {
    assert.throws(
      () => expandPlaceholders('--port={prot}', values),
      (err: unknown) => {
        assert.ok(err instanceof PlaceholderError);
        assert.equal(err.code, 'invalid_placeholder');
        assert.match(err.message, /unknown placeholder \{prot\} in '--port=\{prot\}'/);
        assert.match(
          err.message,
          /\{port\} \{unix_socket\} \{base_url\} \{user\} \{server\} \{home\}/,
        );
        return true;
      },
    );
  });

  it('refuses shell-style ${VAR} and lone braces', () => {
    assert.throws(() => expandPlaceholders('${HOME}/x', values), /unknown placeholder \{HOME\}/);
    assert.throws(() => expandPlaceholders('a { b', values), /unmatched '\{'/);
    assert.throws(() => expandPlaceholders('a } b', values), /unmatched '\}'/);
  });

  it('does not expand placeholders inside values', () => {
    assert.equal(expandPlaceholders('{home}', { ...values, home: '/home/{user}' }), '/home/{user}');
  });

  it('lists the placeholders a template uses', () => {
    assert.deepEqual(placeholdersIn('--sock={unix_socket} {{port}} {user}{user}'), [
      'unix_socket',
      'user',
    ]);
    assert.throws(() => placeholdersIn('{nope}'), PlaceholderError);
  });
});
