import assert from 'node:assert/strict';
import { OriginPolicy } from '../../../../src/proxy/http/origin.js';
import { requestSource } from '../../../../src/http/request-source.js';

describe('proxy Origin policy with an extra origin', () => {
  const policy = new OriginPolicy('https://hub.example.org', ['https://jupyter.example.org']);

  it('accepts the public origin and the extra one, in any case, and clients that send no Origin', () => {
    for (const origin of [
      'https://hub.example.org',
      'https://jupyter.example.org',
      'HTTPS://Jupyter.Example.ORG',
      undefined,
    ])
      assert.ok(policy.accepts(origin), String(origin));
  });

  it('refuses look-alikes: a longer host, another scheme or port, a trailing slash, the null origin', () => {
    for (const origin of [
      'https://jupyter.example.org.evil.example',
      'https://evil-jupyter.example.org',
      'http://jupyter.example.org',
      'https://jupyter.example.org:8443',
      'https://jupyter.example.org/',
      'null',
    ])
      assert.ok(!policy.accepts(origin), origin);
  });

  it("places a page of the server on the extra origin as the server's own, and one elsewhere as foreign", () => {
    const from = (referer: string, origin: string) =>
      requestSource(
        { method: 'POST', headers: { origin, referer } },
        '/apps/alice/lab/',
        policy.allowed,
      );
    assert.equal(
      from('https://jupyter.example.org/apps/alice/lab/form', 'https://jupyter.example.org'),
      'own-page',
    );
    assert.equal(
      from('https://jupyter.example.org/apps/bob/www/', 'https://jupyter.example.org'),
      'foreign',
    );
    assert.equal(
      from(
        'https://jupyter.example.org.evil.example/apps/alice/lab/form',
        'https://jupyter.example.org.evil.example',
      ),
      'foreign',
    );
  });
});
