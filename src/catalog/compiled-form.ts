/**
 * The compiled form of an app file: `<catalog>/.compiled/NAME.json`, written by
 * `hubapps check-config` run as root (compile.ts) after the full validation, so that
 * hubapps-proxy can start without loading the YAML parser and the schema library. The
 * proxy uses a compiled app only when it is bound to the app file exactly as it is now
 * (SHA-256 of its bytes), comes from this hubapps version, and cannot have been written
 * by anyone who could not also write the app file (same owner, neither the file nor its
 * directory writable by group or others). Otherwise the proxy reads the YAML itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../version.js';
import type { AppSpec, CatalogApp } from './types.js';

export const COMPILED_DIR = '.compiled';
const FORMAT = 1;

export interface CompiledApp {
  format: number;
  hubapps: string;
  /** SHA-256 (hex) of the app file's bytes the record was validated from. */
  sha256: string;
  app: AppSpec;
}

export function compiledPath(catalogDir: string, name: string): string {
  return join(catalogDir, COMPILED_DIR, `${name}.json`);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function compiledRecord(source: Buffer, app: AppSpec): CompiledApp {
  return { format: FORMAT, hubapps: VERSION, sha256: sha256(source), app };
}

/** The app from its compiled form, or null when there is none that may be trusted for the file as it is now. */
export function readCompiledApp(catalogDir: string, name: string): CatalogApp | null {
  const file = join(catalogDir, `${name}.yaml`);
  const compiled = compiledPath(catalogDir, name);
  try {
    const source = statSync(file);
    if (
      !sameKeeper(source, statSync(compiled)) ||
      !sameKeeper(source, statSync(join(catalogDir, COMPILED_DIR)))
    )
      return null;
    const record = JSON.parse(readFileSync(compiled, 'utf8')) as CompiledApp;
    if (
      record.format !== FORMAT ||
      record.hubapps !== VERSION ||
      record.sha256 !== sha256(readFileSync(file))
    )
      return null;
    return { ...record.app, name, file };
  } catch {
    return null;
  }
}

function sameKeeper(source: Stats, other: Stats): boolean {
  return other.uid === source.uid && (other.mode & 0o022) === 0;
}
