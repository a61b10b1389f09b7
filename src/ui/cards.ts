import { h, replaceKeepingFocus } from './dom.js';
import { stateBadge } from './format.js';
import { isActive, type App, type Server } from './types.js';

export interface CardHandlers {
  /** Start the app's first server (named like the app). */
  start(app: App): void;
  /** Ask for a name and start one more server of the app. */
  startAnother(app: App): void;
}

interface Card {
  status: HTMLElement;
  actions: HTMLElement;
  shown: string;
}

/**
 * One card per catalog app: icon, title, description, its running servers, and Start (or
 * Open + "Start another…" once one is active). Cards are built once; polls only refresh
 * their status line and buttons, and only when something changed.
 */
export class Cards {
  private readonly cards = new Map<string, Card>();

  constructor(
    private readonly container: HTMLElement,
    private readonly handlers: CardHandlers,
  ) {}

  render(all: App[], servers: Server[]): void {
    const apps = all.filter((a) => a.usable && !a.hidden);
    if (this.cards.size === 0) {
      if (apps.length === 0)
        this.container.replaceChildren(
          h(
            'p',
            { class: 'empty' },
            'No apps are configured yet. Ask your admin to add some to the catalog.',
          ),
        );
      else this.container.replaceChildren(...this.grouped(apps));
    }
    for (const app of apps) {
      const card = this.cards.get(app.name);
      if (card)
        this.refresh(
          card,
          app,
          servers.filter((s) => s.app === app.name && isActive(s)),
        );
    }
  }

  /** Cards without a category first, then one heading per category (in the catalog's order) with its cards. */
  private grouped(apps: App[]): HTMLElement[] {
    const categories = [...new Set(apps.map((a) => a.category).filter((c) => c !== null))];
    return [
      ...apps.filter((a) => a.category === null).map((a) => this.build(a)),
      ...categories.flatMap((c) => [
        h('h3', { class: 'category' }, c),
        ...apps.filter((a) => a.category === c).map((a) => this.build(a)),
      ]),
    ];
  }

  private build(app: App): HTMLElement {
    const titleId = `card-${app.name}`;
    const icon = app.icon
      ? h('img', { class: 'icon', src: app.icon, alt: '', width: 48, height: 48 })
      : h(
          'span',
          { class: 'icon letter', 'aria-hidden': 'true' },
          app.title.slice(0, 1).toUpperCase(),
        );
    const status = h('p', { class: 'instances' });
    const actions = h('div', { class: 'card-actions' });
    this.cards.set(app.name, { status, actions, shown: '-' });
    // A job waits in a queue and ends at its time limit: users should know before they start one.
    const where =
      app.runs_on === 'slurm' ? h('p', { class: 'runs-on' }, 'Runs as a job on the cluster') : null;
    const parts = [
      icon,
      h('h3', { id: titleId }, app.title),
      h('p', { class: 'description' }, app.description),
      ...(where ? [where] : []),
      status,
      actions,
    ];
    return h(
      'article',
      { class: 'card', 'aria-labelledby': titleId, 'data-app': app.name },
      ...parts,
    );
  }

  private refresh(card: Card, app: App, active: Server[]): void {
    const shown = active.map((s) => `${s.name}:${s.state}`).join(',');
    if (shown === card.shown) return;
    card.shown = shown;
    card.status.replaceChildren(
      ...active.map((s) => h('span', { class: 'instance' }, `${s.name} `, stateBadge(s.state))),
    );
    const running = active.find((s) => s.state === 'running');
    const buttons: Node[] = [];
    if (active.length === 0) {
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            'data-key': 'start',
            'aria-label': `Start ${app.title}`,
            onclick: () => this.handlers.start(app),
          },
          'Start',
        ),
      );
    } else {
      if (running)
        buttons.push(
          h(
            'a',
            {
              class: 'button primary',
              href: running.url,
              'data-key': 'open',
              'aria-label': `Open ${app.title} (${running.name})`,
            },
            'Open',
          ),
        );
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            'data-key': 'another',
            'aria-label': `Start another ${app.title}`,
            onclick: () => this.handlers.startAnother(app),
          },
          'Start another…',
        ),
      );
    }
    replaceKeepingFocus(card.actions, ...buttons);
  }
}
