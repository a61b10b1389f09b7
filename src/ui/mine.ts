import { api, ApiError } from './api.js';
import { askForm } from './ask-form.js';
import { askServerName } from './ask-name.js';
import { serverActions } from './actions.js';
import { Cards } from './cards.js';
import { $, connectionProblem } from './dom.js';
import type { LogsView } from './logs.js';
import { suggestName } from './names.js';
import { Poller } from './poller.js';
import { PortsView } from './ports.js';
import type { ProgressView } from './progress.js';
import { COLUMNS, ServerTable } from './server-table.js';
import { refreshSharedWithMe, SharingDialog } from './sharing.js';
import { isActive, type App, type Me, type Server } from './types.js';

const POLL_MS = 2500;
const ORDER = ['starting', 'pending', 'running', 'stopping', 'failed', 'stopped'];

/** The launcher view: the app cards, "My servers" (with their ports and Sharing dialogs) and "Shared with me", kept current by polling. */
export class MyServers {
  private servers: Server[] = [];
  readonly poller = new Poller(
    () => this.refresh(),
    POLL_MS,
    (err) => connectionProblem(err instanceof ApiError ? err.message : String(err)),
  );
  private readonly cards: Cards;
  private readonly table: ServerTable;
  private readonly ports: PortsView;

  constructor(
    private readonly me: Me,
    private readonly apps: App[],
    private readonly progress: ProgressView,
    logs: LogsView,
  ) {
    const shareDialog = $<HTMLDialogElement>('#share-dialog');
    const sharing = new SharingDialog(shareDialog);
    const portsHelp = $<HTMLDialogElement>('#ports-help');
    $('#ports-help-close', portsHelp).addEventListener('click', () => portsHelp.close());
    this.ports = new PortsView(
      () => this.table.width,
      POLL_MS,
      () => portsHelp.showModal(),
    );
    shareDialog.addEventListener('close', () => this.ports.sharingChanged());
    this.cards = new Cards($('#cards'), {
      start: (app) => void this.startFirst(app),
      startAnother: (app) => void this.startAnother(app),
    });
    const handlers = {
      canOpen: () => true,
      label: (s: Server) => s.name,
      logs: (s: Server) => logs.open(s),
      changed: () => void this.poller.now(),
      restart: (s: Server) => void this.restart(s),
      share: (s: Server) => void sharing.open(s),
      removable: true,
      progress: (s: Server) =>
        this.progress.watch(
          { user: s.user, name: s.name, app: s.app, title: this.title(s.app), enter: false },
          s,
        ),
    };
    const c = COLUMNS;
    this.table = new ServerTable(
      $<HTMLTableSectionElement>('#mine tbody'),
      [c.name, c.app, c.state, c.started, c.activity],
      (s) => serverActions(s, handlers),
      (s) => this.ports.row(s),
    );
  }

  async refresh(): Promise<void> {
    const answer = await api<{ servers: Record<string, Server> }>(
      'GET',
      `users/${encodeURIComponent(this.me.name)}`,
    );
    connectionProblem(null);
    this.servers = Object.values(answer.servers).sort(
      (a, b) =>
        ORDER.indexOf(a.state) - ORDER.indexOf(b.state) ||
        (b.started ?? '').localeCompare(a.started ?? ''),
    );
    this.cards.render(this.apps, this.servers);
    this.table.update(this.servers);
    $('#mine').hidden = this.servers.length === 0;
    $('#mine-empty').hidden = this.servers.length > 0;
    const [, added] = await Promise.all([
      refreshSharedWithMe(this.me.name),
      this.ports.refresh(this.servers),
    ]);
    // A server whose ports were read for the first time gets its row under its own now, not a poll later.
    if (added) this.table.update(this.servers);
  }

  title(app: string): string {
    return this.apps.find((a) => a.name === app)?.title ?? app;
  }

  /** The first server of an app takes the app's name, unless an active server of another app holds it. */
  private async startFirst(app: App): Promise<void> {
    if (this.activeNames().includes(app.name)) return this.startAnother(app);
    const choice = await askForm(app);
    if (choice)
      await this.progress.start({
        user: this.me.name,
        name: app.name,
        app: app.name,
        title: app.title,
        enter: false,
        ...choice,
      });
  }

  private async startAnother(app: App): Promise<void> {
    const suggestion = suggestName(
      app.name,
      this.servers.map((s) => s.name),
    );
    const name = await askServerName(app.title, suggestion, this.activeNames());
    const choice = name ? await askForm(app) : null;
    if (name && choice)
      await this.progress.start({
        user: this.me.name,
        name,
        app: app.name,
        title: app.title,
        enter: false,
        ...choice,
      });
  }

  /** Start an ended server again, asking the app's form first (filled with the values of the latest start). */
  private async restart(s: Server): Promise<void> {
    const app = this.apps.find((a) => a.name === s.app);
    const choice = app ? await askForm(app) : { options: {}, form: {} };
    if (choice)
      await this.progress.start({
        user: s.user,
        name: s.name,
        app: s.app,
        title: this.title(s.app),
        enter: false,
        ...choice,
      });
  }

  private activeNames(): string[] {
    return this.servers.filter(isActive).map((s) => s.name);
  }
}
