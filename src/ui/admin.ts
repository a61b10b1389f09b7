import { api, ApiError } from './api.js';
import { serverActions } from './actions.js';
import { $, connectionProblem, h } from './dom.js';
import type { LogsView } from './logs.js';
import { Poller } from './poller.js';
import { COLUMNS, ServerTable } from './server-table.js';
import { isActive, type App, type Me, type Server } from './types.js';

const POLL_MS = 3000;

/**
 * The admin view: every user's servers, filtered by user, app and state. Admins may stop
 * any server and read its log; Open appears only when admin_access lets them in.
 */
export class AdminView {
  private all: Server[] = [];
  readonly poller = new Poller(
    () => this.refresh(),
    POLL_MS,
    (err) => connectionProblem(err instanceof ApiError ? err.message : String(err)),
  );
  private readonly table: ServerTable;
  private readonly user = $<HTMLInputElement>('#f-user');
  private readonly app = $<HTMLSelectElement>('#f-app');
  private readonly state = $<HTMLSelectElement>('#f-state');

  constructor(me: Me, apps: App[], logs: LogsView) {
    const handlers = {
      canOpen: (s: Server) => s.user === me.name || me.admin_access,
      label: (s: Server) => `${s.user}/${s.name}`,
      logs: (s: Server) => logs.open(s),
      changed: () => void this.poller.now(),
    };
    const c = COLUMNS;
    this.table = new ServerTable(
      $<HTMLTableSectionElement>('#admin-table tbody'),
      [c.user, c.name, c.app, c.state, c.started, c.activity],
      (s) => serverActions(s, handlers),
    );
    this.app.append(...apps.map((a) => h('option', { value: a.name }, a.title)));
    $('#admin-filters').addEventListener('submit', (ev) => ev.preventDefault());
    for (const input of [this.user, this.app, this.state])
      input.addEventListener('input', () => this.show());
  }

  async refresh(): Promise<void> {
    const { users } = await api<{
      users: Array<{ name: string; servers: Record<string, Server> }>;
    }>('GET', 'users');
    connectionProblem(null);
    this.all = users
      .flatMap((u) => Object.values(u.servers))
      .sort((a, b) => a.user.localeCompare(b.user) || a.name.localeCompare(b.name));
    $('#f-users').replaceChildren(
      ...[...new Set(this.all.map((s) => s.user))].map((u) => h('option', { value: u })),
    );
    this.show();
  }

  private show(): void {
    const user = this.user.value.trim().toLowerCase();
    const app = this.app.value;
    const state = this.state.value;
    const shown = this.all.filter(
      (s) =>
        (!user || s.user.toLowerCase().includes(user)) &&
        (!app || s.app === app) &&
        (!state || (state === 'active' ? isActive(s) : s.state === state)),
    );
    this.table.update(shown);
    const active = this.all.filter(isActive).length;
    $('#admin-count').textContent =
      `Showing ${shown.length} of ${this.all.length} servers (${active} active).`;
    $('#admin-table').hidden = shown.length === 0;
  }
}
