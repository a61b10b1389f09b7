import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

interface Layer {
  methods: string[];
  path: string;
}

/** Every "METHOD /path" the running app serves under {prefix}api, in OpenAPI's {param} form. */
function servedOperations(stack: LocalStack): Set<string> {
  const apiPrefix = `${stack.service.urls.servicePrefix()}api`;
  const ops = new Set<string>();
  for (const mw of stack.service.app.middleware as Array<{ router?: { stack: Layer[] } }>) {
    for (const layer of mw.router?.stack ?? []) {
      if (!layer.path.startsWith(apiPrefix)) continue;
      const p = (layer.path.slice(apiPrefix.length) || '/').replace(/:(\w+)/g, '{$1}');
      for (const m of layer.methods) if (m !== 'HEAD') ops.add(`${m} ${p}`);
    }
  }
  return ops;
}

describe('docs/openapi.yaml matches the live API', function () {
  this.timeout(20000);
  let stack: LocalStack;
  before(async () => (stack = await startLocalStack({ apps: {} })));
  after(async () => stack?.stop());

  it('documents every operation the service serves, and serves every documented one', () => {
    const doc = parse(fs.readFileSync(path.join(REPO, 'docs', 'openapi.yaml'), 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of Object.keys(item))
        if (METHODS.includes(m)) documented.add(`${m.toUpperCase()} ${p}`);
    }
    const served = servedOperations(stack);
    assert.ok(
      served.size > 10,
      `found only ${served.size} routes: is the router introspection broken?`,
    );
    assert.deepEqual(
      [...served].filter((o) => !documented.has(o)).sort(),
      [],
      'served but not in docs/openapi.yaml',
    );
    assert.deepEqual(
      [...documented].filter((o) => !served.has(o)).sort(),
      [],
      'in docs/openapi.yaml but not served',
    );
  });
});
