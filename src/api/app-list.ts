import { runsOnSlurm, startOptions } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import { limitOptions } from '../limits/resources.js';
import { settingsFor } from '../limits/group-settings.js';
import type { ApiDeps } from './deps.js';
import { presentForm, rememberedValues } from './present-form.js';

/**
 * The apps a user sees in the launcher (GET api/apps), and the hub's spawner in its options
 * form for that user: those allowed_groups lets them use (admins see every app, to name
 * other users' servers), with the start options and launch form each offers.
 */
export async function listApps(deps: ApiDeps, who: { name: string; admin: boolean }) {
  // Whoever the user policy refuses (the admin_token's caller, a user who left the group) may start none of them.
  const account = await deps.users.check(who.name).then(
    (a) => a,
    () => undefined,
  );
  const usable = (a: CatalogApp) => account !== undefined && deps.users.appAllowed(account, a);
  const last = deps.queries.lastForms(who.name);
  // The caps a user's dialog offers are those of the user's groups (group_settings).
  const limits = settingsFor(deps.config, account?.groups ?? []).server_limits;
  return deps
    .catalog()
    .list()
    .filter((a) => who.admin || usable(a))
    .map((a) => ({
      name: a.name,
      title: a.title,
      description: a.description,
      hidden: a.hidden,
      category: a.category ?? null,
      usable: usable(a),
      icon: a.icon ? `${deps.urls.servicePrefix()}api/apps/${a.name}/icon` : null,
      runs_on: runsOnSlurm(deps.config.slurm.apps, a) ? 'slurm' : 'host',
      options: runsOnSlurm(deps.config.slurm.apps, a)
        ? startOptions(deps.config.slurm.apps, a)
        : limitOptions(limits, a),
      form: presentForm(a, account),
      form_values: rememberedValues(a, account, last.get(a.name)),
    }));
}
