import assert from 'node:assert/strict';
import { requestSource } from '../../../src/http/request-source.js';

const ORIGIN = 'https://hub.example.org';
const ORIGINS = new Set([ORIGIN]);
const OWN = '/apps/alice/lab/';
const src = (headers: Record<string, string>, method = 'GET', upgrade = false) =>
  requestSource({ method, headers }, OWN, ORIGINS, upgrade);
const sameOrigin = (dest: string, mode: string, referer?: string) => ({
  'sec-fetch-site': 'same-origin',
  'sec-fetch-mode': mode,
  'sec-fetch-dest': dest,
  ...(referer ? { referer: `${ORIGIN}${referer}` } : {}),
});

describe('request source: which page a browser request comes from (fetch metadata, Origin, Referer)', () => {
  it('takes top-level GET navigations from anywhere: links, bookmarks, other sites', () => {
    assert.equal(
      src({
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
      }),
      'navigation',
    );
    assert.equal(
      src({ 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }),
      'navigation',
    );
    assert.equal(src(sameOrigin('document', 'navigate', '/apps/bob/www/page.html')), 'navigation');
  });

  it("accepts fetches, frames and form posts from the server's own pages", () => {
    assert.equal(src(sameOrigin('empty', 'cors', '/apps/alice/lab/tree')), 'own-page');
    assert.equal(src(sameOrigin('iframe', 'navigate', '/apps/alice/lab/')), 'own-page');
    assert.equal(
      src(sameOrigin('document', 'navigate', '/apps/alice/lab/form'), 'POST'),
      'own-page',
    );
  });

  it("refuses them from another server's page, from a page that hid its Referer, and from other sites", () => {
    assert.equal(src(sameOrigin('empty', 'cors', '/apps/bob/www/attack.html')), 'foreign');
    assert.equal(src(sameOrigin('iframe', 'navigate', '/apps/bob/www/attack.html')), 'foreign');
    assert.equal(
      src(sameOrigin('document', 'navigate', '/apps/bob/www/attack.html'), 'POST'),
      'foreign',
    );
    assert.equal(src(sameOrigin('empty', 'cors')), 'foreign', 'referrerpolicy=no-referrer');
    assert.equal(
      src(sameOrigin('empty', 'cors', '/apps/alice/labx/')),
      'foreign',
      'a sibling whose name starts the same',
    );
    assert.equal(
      src({
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        'sec-fetch-dest': 'empty',
        referer: 'https://evil.example/apps/alice/lab/',
      }),
      'foreign',
    );
    assert.equal(
      src({
        'sec-fetch-site': 'same-site',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'iframe',
      }),
      'foreign',
    );
  });

  it('judges browsers without fetch metadata by Origin and Referer', () => {
    assert.equal(
      src({ origin: ORIGIN, referer: `${ORIGIN}/apps/alice/lab/x` }, 'POST'),
      'own-page',
    );
    assert.equal(src({ origin: ORIGIN, referer: `${ORIGIN}/apps/bob/www/` }, 'POST'), 'foreign');
    assert.equal(src({ origin: 'https://evil.example' }, 'POST'), 'foreign');
    assert.equal(
      src({ origin: ORIGIN }, 'POST'),
      'foreign',
      'a same-origin post that hid its page',
    );
  });

  it('leaves scripts without any of these headers, and same-origin WebSockets (which carry only Origin), to their credential', () => {
    assert.equal(src({}), 'unknown');
    assert.equal(src({}, 'POST'), 'unknown');
    assert.equal(src({ origin: ORIGIN }, 'GET', true), 'unknown');
    assert.equal(src({ origin: 'https://evil.example' }, 'GET', true), 'foreign');
  });
});
