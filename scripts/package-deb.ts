/**
 * `npm run package`: the Debian package NAME_VERSION_ARCH.deb, built offline from this built
 * checkout with dpkg-deb. It holds the program (compiled JavaScript, the runtime
 * node_modules with better-sqlite3 and node-pty built here, migrations, systemd templates,
 * docs) in /usr/lib/NAME/lib, the pinned configurable-http-proxy in /usr/lib/NAME/chp and
 * the man page NAME(1); its postinst runs `hubapps install` for the rest
 * (src/ops/install/debian.ts).
 *   node dist/scripts/package-deb.js [--out DIR] [--name NAME] [--compress xz|gzip|none]
 * --name builds the same package under another installation name (the tests use hubapps-t-*).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { controlFile, postinst, postrm, prerm } from '../src/ops/install/debian.js';
import { ensureTree } from '../src/ops/install/ensure.js';
import { at, makeLayout } from '../src/ops/install/layout.js';
import { manPage } from '../src/ops/install/man-page.js';
import { packagesTree, programTree, sourceRoot } from '../src/ops/install/program-tree.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '.' },
    name: { type: 'string', default: 'hubapps' },
    compress: { type: 'string', default: 'xz' },
  },
});
if (!['xz', 'gzip', 'none'].includes(values.compress)) {
  console.error(`--compress: '${values.compress}' is not one of xz, gzip, none`);
  process.exit(2);
}

const source = sourceRoot();
const staging = mkdtempSync(join(tmpdir(), 'hubapps-deb-'));
// The archive's ./ takes the staging directory's mode, and mkdtemp makes it 0700.
chmodSync(staging, 0o755);
try {
  const layout = makeLayout({ name: values.name, root: staging });
  const files = { dryRun: false, owner: undefined };
  mkdirSync(at(layout, layout.libRoot), { recursive: true, mode: 0o755 });
  ensureTree(at(layout, layout.libDir), programTree(source), 0o755, 0o644, files);
  ensureTree(
    at(layout, layout.chpDir),
    packagesTree(source, ['configurable-http-proxy']),
    0o755,
    0o644,
    files,
  );
  const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as {
    version: string;
    description: string;
  };
  const man = join(staging, 'usr', 'share', 'man', 'man1');
  mkdirSync(man, { recursive: true, mode: 0o755 });
  writeFileSync(
    join(man, `${layout.name}.1.gz`),
    gzipSync(manPage(layout, pkg.version, new Date().toISOString().slice(0, 10)), { level: 9 }),
  );
  const debian = join(staging, 'DEBIAN');
  mkdirSync(debian, { mode: 0o755 });
  const installedKb = Number(
    execFileSync('du', ['-sk', '--exclude=DEBIAN', staging], { encoding: 'utf8' }).split('\t')[0],
  );
  const architecture = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const meta = {
    name: layout.name,
    version: pkg.version,
    architecture,
    installedKb,
    description: `per-user web apps started as the user's own Unix account, next to JupyterHub\n${pkg.description}`,
  };
  writeFileSync(join(debian, 'control'), controlFile(meta));
  const scripts = { postinst: postinst(layout), prerm: prerm(layout), postrm: postrm(layout) };
  for (const [name, text] of Object.entries(scripts)) {
    writeFileSync(join(debian, name), text);
    chmodSync(join(debian, name), 0o755);
  }
  const outDir = resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${layout.name}_${pkg.version}_${architecture}.deb`);
  execFileSync(
    'dpkg-deb',
    ['--root-owner-group', `-Z${values.compress}`, '--build', staging, file],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  console.log(file);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
