import fs from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HubappsError } from '../../errors.js';
import { SERVER_NAME } from '../../names.js';
import { stdio, type Io } from '../io.js';
import { appData, appFileText, catalogProblems } from './pyconf/app-file.js';
import { translateConf, type Refusal } from './pyconf/translate.js';

export const MIGRATE_USAGE = `usage: hubapps migrate-conf DIR [--out DIR] [--dry-run] [--force]

Turns the jupyter-server-proxy standalone configs of the jupyterhub_standalone_proxy role
(DIR/*.conf.py, e.g. /usr/local/etc/jupyter/standalone) into app files OUT/NAME.yaml.
Python is never run: literal settings are translated, anything else refuses its file,
naming the file and line. Exits 1 if any file was refused; the others are still written.
  --out DIR    where the app files go (default ./apps.d); review them, then copy them
               into the catalog (/etc/hubapps/apps.d)
  --dry-run    print the app files instead of writing them
  --force      replace an existing app file that differs
`;

const SUFFIX = '.conf.py';

interface FileOutcome {
  source: string;
  name: string;
  notes: Refusal[];
  refusals: Refusal[];
  portProxy: boolean;
  text?: string;
}

/** `hubapps migrate-conf`: returns the exit status. */
export async function runMigrateConf(argv: string[], io: Io = stdio): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(MIGRATE_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new HubappsError(
      'usage',
      `migrate-conf takes one directory (or one ${SUFFIX} file)\n\n${MIGRATE_USAGE}`,
    );
  const sources = confFiles(resolve(positionals[0]!));
  const outDir = resolve(values.out ?? 'apps.d');
  const taken = new Map<string, string>();
  let refused = 0;
  const portProxies: string[] = [];
  for (const source of sources) {
    const outcome = convert(source, taken);
    if (outcome.portProxy) portProxies.push(basename(source));
    const target = join(outDir, `${outcome.name}.yaml`);
    if (outcome.text !== undefined && !values['dry-run']) {
      const clash = writeApp(target, outcome.text, values.force ?? false);
      if (clash) outcome.refusals.push({ line: 0, message: clash });
    }
    if (outcome.refusals.length > 0) refused++;
    io.out(report(outcome, target, values['dry-run'] ?? false));
  }
  const summary = `${sources.length - refused} of ${sources.length} file(s) converted${refused ? `, ${refused} refused` : ''}`;
  io.out(
    `\n${summary}${values['dry-run'] ? ' (dry run: nothing written)' : `; app files in ${outDir}`}\n`,
  );
  if (portProxies.length > 0) io.out(portProxySummary(portProxies));
  return refused > 0 ? 1 : 0;
}

function confFiles(path: string): string[] {
  let files: string[];
  try {
    files = fs.statSync(path).isDirectory()
      ? fs
          .readdirSync(path)
          .filter((f) => f.endsWith(SUFFIX))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (err) {
    throw new HubappsError(
      'not_found',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (files.length === 0) throw new HubappsError('not_found', `no *${SUFFIX} files in ${path}`);
  return files;
}

function convert(source: string, taken: Map<string, string>): FileOutcome {
  const raw = basename(source).replace(/\.conf\.py$|\.py$/, '');
  const name = appName(raw);
  const out: FileOutcome = { source, name, notes: [], refusals: [], portProxy: false };
  if (!SERVER_NAME.test(name)) {
    out.refusals.push({
      line: 0,
      message: `cannot make an app name out of '${raw}': rename the file (a-z 0-9 . _ -)`,
    });
    return out;
  }
  const earlier = taken.get(name);
  if (earlier) {
    out.refusals.push({
      line: 0,
      message: `${basename(earlier)} also becomes the app '${name}': rename one of them`,
    });
    return out;
  }
  taken.set(name, source);
  if (name !== raw)
    out.notes.push({
      line: 0,
      message: `the app is called '${name}' (app names are a-z 0-9 . _ -)`,
    });
  const t = translateConf(fs.readFileSync(source, 'utf8'), raw);
  out.notes.push(...t.notes);
  out.refusals.push(...t.refusals);
  out.portProxy = t.portProxy;
  if (out.refusals.length > 0) return out;
  const data = appData(t.app);
  const problems = catalogProblems(data);
  if (problems.length > 0) {
    out.refusals.push(
      ...problems.map((message) => ({
        line: 0,
        message: `the app file would be invalid: ${message}`,
      })),
    );
    return out;
  }
  out.text = appFileText(data, source, out.notes);
  return out;
}

/** The app-name rule (lower case, a-z 0-9 . _ -, no '..', 63 characters) applied to a file name. */
export function appName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
}

/** Write the app file; returns why not when a different file is in the way. */
function writeApp(target: string, text: string, force: boolean): string | undefined {
  let current: string | undefined;
  try {
    current = fs.readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return undefined;
  if (current !== undefined && !force)
    return `${target} exists and differs: compare them, then remove it or pass --force`;
  fs.mkdirSync(resolve(target, '..'), { recursive: true });
  fs.writeFileSync(target, text, { mode: 0o644 });
  return undefined;
}

/** The port proxy is the host's setting, not an app's: say once where it went. */
function portProxySummary(files: string[]): string {
  return `\nPort proxy set-up found in ${files.join(', ')} (see the notes above): users' own ports are no app file but user_ports in hubapps.yaml (enabled, ranges, host_ports, max_open_per_user, cors). A port PORT of alice's server SERVER is then at /apps/alice/SERVER/ports/PORT/, or PORT--p--SERVER--alice.APPS_DOMAIN with apps_domain; the launcher lists them under each server. See docs/apps.md, "Your own ports".\n`;
}

function report(o: FileOutcome, target: string, dryRun: boolean): string {
  const file = basename(o.source);
  const where = (r: Refusal) => `${file}${r.line > 0 ? `:${r.line}` : ''}`;
  const lines =
    o.refusals.length > 0
      ? [
          `REFUSED ${file}: not converted`,
          ...o.refusals.map((r) => `        ${where(r)}: ${r.message}`),
        ]
      : [`ok      ${file} -> ${target}${dryRun ? ' (dry run)' : ''}`];
  lines.push(...o.notes.map((n) => `        note ${where(n)}: ${n.message}`));
  if (dryRun && o.text)
    lines.push(
      ...o.text
        .trimEnd()
        .split('\n')
        .map((l) => `    | ${l}`),
    );
  return `${lines.join('\n')}\n`;
}
