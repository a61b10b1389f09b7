import { api, ApiError, PREFIX, serverPath } from './api.js';
import { $, h, showError } from './dom.js';
import type { ProgressView, StartSpec } from './progress.js';
import type { App, Me, Server } from './types.js';
import { askForm } from './ask-form.js';

const PRESET = 'form.';

const AUTOSTARTED = 'hubapps-autostarted';

/**
 * Start-on-visit: the service sends a browser that asked for a stopped server here with
 * ?start=NAME&user=USER&next=PATH, the same for every server, existing or not (it knows
 * nobody). A running server is entered at once; a stopped one is only offered, never
 * started without a click here: a link from anywhere (another user's page included) can
 * bring the browser to this address. `form.NAME=VALUE` parameters pre-fill the app's launch
 * form, which still waits for the click. Returns true when the URL asked for such a visit.
 */
export function handleVisit(me: Me, apps: App[], progress: ProgressView): boolean {
  const q = new URLSearchParams(location.search);
  const name = q.get('start');
  if (!name) return false;
  // Reloading the launcher must not start the server again.
  history.replaceState(null, '', `${PREFIX}${location.hash}`);
  const presets = Object.fromEntries(
    [...q].filter(([k]) => k.startsWith(PRESET)).map(([k, v]) => [k.slice(PRESET.length), v]),
  );
  const target = { user: q.get('user') ?? me.name, name, next: q.get('next') ?? undefined };
  void visit(target, presets, me, apps, progress);
  return true;
}

interface VisitTarget {
  user: string;
  name: string;
  next: string | undefined;
}

/** The server as the API shows it to this user (its owner or an admin); a server never started is taken to be named after its app. */
async function visit(
  { user, name, next }: VisitTarget,
  presets: Record<string, string>,
  me: Me,
  apps: App[],
  progress: ProgressView,
): Promise<void> {
  let server: Server | undefined;
  try {
    server = await api<Server>('GET', serverPath(user, name));
  } catch (err) {
    if (!(err instanceof ApiError && (err.status === 404 || err.status === 403)))
      return showError(err instanceof ApiError ? err.message : String(err));
    // Another user's server that the API does not show this user: its app (and whether it exists) stays unknown here.
    if (err.status === 403)
      return offer({ user, name, app: '', title: '', enter: false, next }, me, progress);
  }
  // An admin's list names apps the admin may not use; whether the owner may is the API's answer.
  const app = apps.find((a) => a.name === (server?.app ?? name) && (a.usable || user !== me.name));
  if (!app)
    return showError(
      `There is no app for ${user}/${name} that you may use: it is not in the catalog, or your admin limited it to some groups. Pick an app below.`,
    );
  const stopped = !server || ['stopped', 'failed'].includes(server.state);
  if (
    user === me.name &&
    stopped &&
    (app.form.length || app.options.length || Object.keys(presets).length)
  )
    return void askThenStart({ user, name, app, next }, presets, progress);
  followOrOffer(
    { user, name, app: app.name, title: app.title, enter: true, next },
    server,
    me,
    progress,
  );
}

/** The app's start dialog, pre-filled with the link's presets; nothing starts before its Start button. */
async function askThenStart(
  { user, name, app, next }: VisitTarget & { app: App },
  presets: Record<string, string>,
  progress: ProgressView,
): Promise<void> {
  const choice = await askForm(app, presets);
  if (choice)
    await progress.start({
      user,
      name,
      app: app.name,
      title: app.title,
      enter: true,
      next,
      ...choice,
    });
}

/**
 * Autostart (config autostart_app): once per login session, the launcher starts the app
 * as the server named after it, if needed, and goes straight in. The session's XSRF token
 * marks the session, so coming back to the launcher later shows the launcher.
 */
export function autostart(me: Me, apps: App[], progress: ProgressView): void {
  const app = apps.find((a) => a.name === me.autostart_app);
  if (!app || !me.xsrf || localStorage.getItem(AUTOSTARTED) === me.xsrf) return;
  localStorage.setItem(AUTOSTARTED, me.xsrf);
  void startOrFollow(
    { user: me.name, name: app.name, app: app.name, title: app.title, enter: true },
    progress,
  );
}

async function startOrFollow(spec: StartSpec, progress: ProgressView): Promise<void> {
  let server: Server | undefined;
  try {
    server = await api<Server>('GET', serverPath(spec.user, spec.name));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404))
      return showError(err instanceof ApiError ? err.message : String(err));
  }
  if (server?.state === 'running')
    return location.assign(spec.next?.startsWith(server.url) ? spec.next : server.url);
  if (server?.state === 'pending' || server?.state === 'starting')
    return progress.watch(spec, server);
  return progress.start(spec);
}

/** Enter a running server; otherwise ask. */
function followOrOffer(
  spec: StartSpec,
  server: Server | undefined,
  me: Me,
  progress: ProgressView,
): void {
  if (server?.state === 'running' && (spec.user === me.name || me.admin_access))
    return location.assign(spec.next?.startsWith(server.url) ? spec.next : server.url);
  if (server?.state === 'pending' || server?.state === 'starting')
    return progress.watch(spec, server);
  offer(spec, me, progress);
}

/** A stopped server: say whose it is; its owner (or an admin) may start it with a click. */
function offer(spec: StartSpec, me: Me, progress: ProgressView): void {
  const panel = $('#visit');
  const own = spec.user === me.name;
  const title = spec.title ? ` (${spec.title})` : '';
  const text = own
    ? `Your server ${spec.name}${title} is not running.`
    : `The server ${spec.name} of ${spec.user}${title} is not running.`;
  const start = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: () => {
        panel.hidden = true;
        void progress.start({ ...spec, enter: own || me.admin_access });
      },
    },
    own ? `Start ${spec.name}` : `Start it for ${spec.user}`,
  );
  const close = h('button', { type: 'button', onclick: () => (panel.hidden = true) }, 'Dismiss');
  panel.replaceChildren(
    h('h2', {}, 'Not running — start it?'),
    h('p', {}, text),
    own || me.admin ? '' : h('p', {}, `Only ${spec.user} or an admin can start it.`),
    h('div', { class: 'buttons' }, own || me.admin ? start : '', close),
  );
  panel.hidden = false;
  panel.focus();
}
