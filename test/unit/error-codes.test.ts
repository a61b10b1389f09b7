import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { apiErrorCodes, withErrorTable } from '../../scripts/error-docs.js';
import { ERROR_CODES } from '../../src/error-codes.js';

// Compiled to dist/test/unit/, three levels below the repository root.
const doc = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');
const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

describe('error codes', () => {
  it('are listed in docs/api.md as src/error-codes.ts declares them (regenerate with: npm run docs)', () => {
    const api = doc('api.md');
    assert.equal(api, withErrorTable(api));
    for (const code of apiErrorCodes())
      assert.ok(api.includes(`| \`${code}\` |`), `${code} missing from docs/api.md`);
  });

  it("are docs/openapi.yaml's enum for an error's code, in the same order", () => {
    const spec = parse(doc('openapi.yaml')) as {
      components: {
        schemas: { Error: { required: string[]; properties: { code: { enum: string[] } } } };
      };
    };
    assert.deepEqual(spec.components.schemas.Error.properties.code.enum, apiErrorCodes());
    assert.ok(spec.components.schemas.Error.required.includes('code'));
  });

  it('each say what they mean, and none is declared without being used in src/', async () => {
    const { tsFiles } = await import('../helpers/import-graph.js');
    const source = tsFiles(SRC)
      .filter((f) => !f.endsWith('error-codes.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const [code, [status, meaning]] of Object.entries(ERROR_CODES)) {
      assert.ok(meaning.length > 10, `${code} needs a meaning`);
      assert.ok(
        status < 100 || (status >= 400 && status < 600),
        `${code}: ${status} is not an error status`,
      );
      assert.ok(
        source.includes(`'${code}'`),
        `${code} is declared in src/error-codes.ts but never used`,
      );
    }
  });
});
