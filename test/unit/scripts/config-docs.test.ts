import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../../../scripts/config-docs/render.js';
import { configSchema } from '../../../src/config/schema.js';
import { appSchema } from '../../../src/catalog/types.js';

// Compiled to dist/test/unit/config/, four levels below the repository root.
const DOCS = fileURLToPath(new URL('../../../../docs/configuration.md', import.meta.url));

describe('docs/configuration.md', () => {
  it('is up to date with the schemas (regenerate with: npm run docs)', () => {
    assert.equal(readFileSync(DOCS, 'utf8'), renderConfigDocs());
  });

  it('documents every config key and every app key with its description', () => {
    const text = renderConfigDocs();
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      assert.ok(text.includes(`| \`${key}\` |`), `config key ${key} missing`);
      if (schema.description)
        assert.ok(
          text.includes(schema.description.replace(/\|/g, '\\|')),
          `description of ${key} missing`,
        );
    }
    for (const key of Object.keys(appSchema.shape))
      assert.ok(text.includes(`| \`${key}\` |`), `app key ${key} missing`);
    assert.ok(
      text.includes('| `chp.auth_token` | secret reference | `"env:CONFIGPROXY_AUTH_TOKEN"` |'),
    );
    assert.ok(text.includes('| `title` | string (1–80 characters) | **required** |'));
  });
});
