/**
 * The proxy's own reader for one app file, <catalog-dir>/<app>.yaml. The proxy trusts
 * only the root-owned catalog for the command it runs, never the service, so it reads
 * the file itself; this loader is deliberately small (the full catalog with hot reload
 * lives in src/catalog/).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, HubappsError, errnoCode } from '../../errors.js';
import { SERVER_NAME } from '../../names.js';
import { appSchema, type CatalogApp } from '../../catalog/types.js';

export async function loadAppFile(catalogDir: string, name: string): Promise<CatalogApp> {
  if (!SERVER_NAME.test(name) || name.includes('..')) {
    throw new HubappsError('app_not_in_catalog', `app name '${name}' is not a valid catalog name`);
  }
  const file = join(catalogDir, `${name}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new HubappsError(
        'app_not_in_catalog',
        `app '${name}' is not in the catalog: ${file} does not exist`,
      );
    }
    throw new HubappsError(
      'catalog_unreadable',
      `cannot read ${file}: ${errnoCode(err) ?? String(err)}`,
      { cause: err },
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(file, '', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = appSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(file, issue.path.join('.'), issue.message);
  }
  return { ...parsed.data, name, file };
}
