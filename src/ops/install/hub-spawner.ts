import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { basename, join } from 'node:path';
import { ensureFile, ensureFileOnce } from './ensure.js';
import { at, type Layout } from './layout.js';
import { report, rootOpts, writePath, type InstallContext, type StepReport } from './steps.js';
import { runCommand } from '../system.js';

/** Debian's jupyterhub package runs the hub with this interpreter. */
export const HUB_PYTHON = '/usr/bin/python3';

const MODULE = 'hubapps_spawner.py';

/** dpkg owns it: a file put there is lost or clashes on the next package upgrade. */
const DPKG_DIR = /^\/usr\/lib\/python3(\.\d+)?\/dist-packages\/?$/;

const ASK_PYTHON = `import importlib.util, json, sys, sysconfig
print(json.dumps({"purelib": sysconfig.get_paths()["purelib"], "path": sys.path,
                  "jupyterhub": importlib.util.find_spec("jupyterhub") is not None}))`;

interface PythonFacts {
  purelib: string;
  path: string[];
  jupyterhub: boolean;
}

/**
 * `install --jupyterhub-spawner`: HubappsSpawner where the hub's Python imports it (its
 * purelib directory: /usr/local/lib/python3.X/dist-packages for Debian's python3, the
 * venv's site-packages for a hub in a venv), the spawner's token (made once, root's only),
 * and the drop-in that hands the token to the service as the credential spawner-token.
 */
export function hubSpawnerStep(ctx: InstallContext, python = HUB_PYTHON): StepReport[] {
  return [moduleStep(ctx, python), ...tokenSteps(ctx)];
}

function moduleStep(ctx: InstallContext, python: string): StepReport {
  const asked = runCommand(python, ['-c', ASK_PYTHON]);
  if (asked.code !== 0) {
    const why = asked.error ?? (asked.stderr.trim() || `exit status ${asked.code}`);
    return {
      status: 'skip',
      text: `${MODULE} not installed: cannot ask ${python} where it imports modules from (${why}); name the hub's Python with --hub-python PATH`,
    };
  }
  const facts = JSON.parse(asked.stdout) as PythonFacts;
  if (!facts.jupyterhub)
    return {
      status: 'skip',
      text: `${MODULE} not installed: ${python} cannot import jupyterhub (install Debian's jupyterhub package, or name the hub's Python with --hub-python PATH)`,
    };
  const dir = facts.purelib;
  if (DPKG_DIR.test(dir) || !facts.path.includes(dir))
    return {
      status: 'skip',
      text: `${MODULE} not installed: ${python}'s purelib directory ${dir} is ${DPKG_DIR.test(dir) ? "dpkg's" : 'not on its sys.path'}; copy ${join(ctx.layout.libDir, 'dist/src/jupyterhub', MODULE)} into a directory on the hub's sys.path`,
    };
  const target = join(dir, MODULE);
  const content = fs.readFileSync(join(ctx.source, 'dist', 'src', 'jupyterhub', MODULE));
  const changed = ensureFile(writePath(ctx, target), content, 0o644, rootOpts(ctx));
  return report(ctx, changed, `HubappsSpawner in ${target} (${python} imports it from there)`);
}

/** The service's drop-in: the spawner's token as the credential spawner-token. */
export function renderSpawnerDropIn(layout: Layout): string {
  const { spawnerDropIn, spawnerTokenFile } = layout;
  return `# ${spawnerDropIn}: written by \`hubapps install --jupyterhub-spawner\`.
# The token JupyterHub's HubappsSpawner presents (it reads ${spawnerTokenFile} itself);
# hubapps.yaml names it as jupyterhub.spawner_token: credential:spawner-token.
[Service]
LoadCredential=spawner-token:${spawnerTokenFile}
`;
}

function tokenSteps(ctx: InstallContext): StepReport[] {
  const { spawnerTokenFile, spawnerDropIn, unitFile } = ctx.layout;
  const token = ensureFileOnce(
    at(ctx.layout, spawnerTokenFile),
    `${randomBytes(32).toString('hex')}\n`,
    0o600,
    rootOpts(ctx),
  );
  const unit = basename(unitFile);
  const unitChanged = ensureFile(
    writePath(ctx, spawnerDropIn),
    renderSpawnerDropIn(ctx.layout),
    0o644,
    rootOpts(ctx),
  );
  return [
    report(
      ctx,
      token,
      token
        ? `new spawner token in ${spawnerTokenFile} (root, 0600)`
        : `spawner token ${spawnerTokenFile} exists: left as it is`,
    ),
    report(ctx, unitChanged, `${spawnerDropIn}: ${unit} loads it as credential spawner-token`),
  ];
}
