/**
 * The proxy's own check of a launch form, as the user: the values again against the app
 * file it read itself (a service could send anything), the user's groups from the system
 * rather than from the request, and each chosen path must exist as the kind its field asks
 * for (only the user can see into their home).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { CatalogApp } from '../../catalog/types.js';
import {
  checkFormValues,
  formPlaceholderValues,
  type FormValues,
} from '../../catalog/form-values.js';
import { HubappsError, errnoCode } from '../../errors.js';

const run = promisify(execFile);

/** The strings that fill {form.NAME} in this app's command and environment. */
export async function checkedFormValues(
  app: Pick<CatalogApp, 'name' | 'form'>,
  input: Record<string, unknown>,
  home: string,
): Promise<Record<string, string>> {
  const fields = Object.values(app.form);
  if (fields.length === 0 && Object.keys(input).length === 0) return {};
  const needsGroups = fields.some(
    (f) => f.type === 'select' && f.options.some((o) => o.groups.length),
  );
  const groups = needsGroups ? await ownGroups() : [];
  const values = checkFormValues(app, input, { groups, home });
  await checkPathsExist(app, values, home);
  return formPlaceholderValues(app.form, values, home);
}

/** Names of the groups this process's user is in, as NSS (LDAP, SSSD) knows them. */
async function ownGroups(): Promise<string[]> {
  const { stdout } = await run('/usr/bin/id', ['-Gn'], { timeout: 10_000 });
  return stdout.trim().split(/\s+/).filter(Boolean);
}

async function checkPathsExist(
  app: Pick<CatalogApp, 'name' | 'form'>,
  values: FormValues,
  home: string,
): Promise<void> {
  const resolved = formPlaceholderValues(app.form, values, home);
  for (const [name, field] of Object.entries(app.form)) {
    if (field.type !== 'path') continue;
    const path = resolved[name] ?? home;
    let kind: 'directory' | 'file' | 'other';
    try {
      const s = await stat(path);
      kind = s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
    } catch (err) {
      throw new HubappsError(
        'form_path_missing',
        `form field '${name}' (${field.label}) of app '${app.name}': ${path} ${errnoCode(err) === 'EACCES' ? 'cannot be read by you' : 'does not exist'}`,
      );
    }
    if (kind !== field.kind)
      throw new HubappsError(
        'form_path_missing',
        `form field '${name}' (${field.label}) of app '${app.name}': ${path} is not a ${field.kind}`,
      );
  }
}
