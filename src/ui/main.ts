import { AdminView } from './admin.js';
import { api, ApiError, useXsrf } from './api.js';
import { $, showError } from './dom.js';
import { LogsView } from './logs.js';
import { MyServers } from './mine.js';
import { ProgressView } from './progress.js';
import { TokensView } from './tokens.js';
import type { App, Me } from './types.js';
import { autostart, handleVisit } from './visit.js';

/**
 * The launcher page: who am I, the catalog, then the launcher view (cards + my servers)
 * and, for admins, the admin view (#admin). Without a session the API's 401 sends the
 * browser to the login page, which comes back here.
 */
async function main(): Promise<void> {
  const me = await api<Me>('GET', 'user');
  useXsrf(me.xsrf);
  const { apps } = await api<{ apps: App[] }>('GET', 'apps');
  $('#who').textContent = me.admin ? `${me.name} (admin)` : me.name;

  const logs = new LogsView($<HTMLDialogElement>('#logs'));
  // eslint-disable-next-line prefer-const -- the progress view calls back into `mine`, which is made after it
  let mine: MyServers | undefined;
  const progress = new ProgressView(
    $<HTMLDialogElement>('#progress'),
    () => void mine?.poller.now(),
  );
  mine = new MyServers(me, apps, progress, logs);
  const admin = me.admin ? new AdminView(me, apps, logs) : undefined;
  $('#nav-admin').hidden = !admin;

  const tokens = new TokensView(me);

  const route = () => {
    const showAdmin = admin !== undefined && location.hash === '#admin';
    const showTokens = location.hash === '#tokens';
    $('#launcher').hidden = showAdmin || showTokens;
    $('#admin').hidden = !showAdmin;
    $('#tokens').hidden = !showTokens;
    current($('#nav-launcher'), !showAdmin && !showTokens);
    current($('#nav-admin'), showAdmin);
    current($('#nav-tokens'), showTokens);
    if (showAdmin) admin.poller.start();
    else admin?.poller.stop();
    if (showTokens) void tokens.load();
    document.title = showAdmin
      ? 'All servers · hubapps'
      : showTokens
        ? 'API tokens · hubapps'
        : 'Apps · hubapps';
  };
  window.addEventListener('hashchange', route);
  route();
  mine.poller.start();
  document.body.classList.remove('loading');

  if (!handleVisit(me, apps, progress)) autostart(me, apps, progress);
}

function current(link: HTMLElement, on: boolean): void {
  if (on) link.setAttribute('aria-current', 'page');
  else link.removeAttribute('aria-current');
}

main().catch((err: unknown) => {
  document.body.classList.remove('loading');
  // A 401 is already on its way to the login page.
  if (!(err instanceof ApiError && err.status === 401))
    showError(err instanceof Error ? err.message : String(err));
});
