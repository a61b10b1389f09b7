import { api, ApiError, serverPath } from './api.js';
import { announce, h, replaceKeepingFocus, showError } from './dom.js';
import type { Port, Server, Share } from './types.js';

/** How long the page trusts what it last read of a server's shares. */
const VISITORS_MS = 30_000;

interface Entry {
  server: Server;
  tr: HTMLTableRowElement;
  body: HTMLTableCellElement;
  /** What is drawn now, so an unchanged answer leaves the DOM (and focus) alone. */
  shown: string;
  readAt: number;
  /** Is the server shared with anyone (then each port gets its "share with visitors" toggle)? Unknown until asked. */
  visitors: boolean | undefined;
  /** When `visitors` was asked: shares made elsewhere (another tab, a script) show up within VISITORS_MS. */
  visitorsAt: number;
  /** Ports are off for this server (config or its app): no row, and no more asking while it runs. */
  off: boolean;
}

/**
 * The ports under each running server in "My servers": what its programs listen on now
 * (Open), ports that stopped listening (greyed, Forget) and, for shared servers, whether
 * visitors may open each port. Read from the page's own poll, at most once per interval
 * per server, never for servers that are not running.
 */
export class PortsView {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly width: () => number,
    private readonly intervalMs: number,
    private readonly help: () => void,
  ) {}

  /** The row under a server: its ports, once read, while it runs. */
  row(s: Server): HTMLTableRowElement | null {
    const e = s.state === 'running' ? this.entries.get(keyOf(s)) : undefined;
    return e && !e.off ? e.tr : null;
  }

  /** Read the ports of running servers not read within the interval; true when a server got its row just now. */
  async refresh(servers: Server[]): Promise<boolean> {
    const running = new Map(servers.filter((s) => s.state === 'running').map((s) => [keyOf(s), s]));
    for (const k of this.entries.keys()) if (!running.has(k)) this.entries.delete(k);
    // A little slack: the poll's timer may fire a few milliseconds early.
    const due = [...running.values()].filter((s) => {
      const e = this.entries.get(keyOf(s));
      return !e?.off && Date.now() - (e?.readAt ?? 0) >= this.intervalMs * 0.9;
    });
    const added = await Promise.all(due.map((s) => this.load(s)));
    return added.includes(true);
  }

  /** The server's shares changed (the Sharing dialog closed): ask again whether it has visitors. */
  sharingChanged(): void {
    for (const e of this.entries.values()) {
      e.visitors = undefined;
      e.readAt = 0;
    }
  }

  private async load(s: Server): Promise<boolean> {
    const k = keyOf(s);
    const fresh = !this.entries.has(k);
    const e = this.entries.get(k) ?? this.add(k, s);
    e.server = s;
    e.readAt = Date.now();
    try {
      const { ports, enabled } = await api<{ ports: Port[]; enabled?: boolean }>(
        'GET',
        `${serverPath(s.user, s.name)}/ports`,
      );
      e.off = enabled === false;
      if (
        ports.length > 0 &&
        (e.visitors === undefined || Date.now() - e.visitorsAt > VISITORS_MS)
      ) {
        e.visitorsAt = Date.now();
        e.visitors = await hasVisitors(s);
      }
      this.draw(e, ports);
    } catch (err) {
      this.drawProblem(e, err);
    }
    return fresh;
  }

  private add(k: string, s: Server): Entry {
    const body = h('td', { colspan: this.width() });
    const tr = h('tr', { class: 'ports', 'data-ports': k }, body);
    const e: Entry = {
      server: s,
      tr,
      body,
      shown: '',
      readAt: 0,
      visitors: undefined,
      visitorsAt: 0,
      off: false,
    };
    this.entries.set(k, e);
    return e;
  }

  private draw(e: Entry, ports: Port[]): void {
    const shown = JSON.stringify([ports, e.visitors]);
    if (shown === e.shown) return;
    e.shown = shown;
    if (ports.length === 0) {
      replaceKeepingFocus(
        e.body,
        h(
          'p',
          { class: 'empty' },
          'Programs you start in this server that listen on a port show up here. ',
          h(
            'button',
            { type: 'button', class: 'link', 'data-key': 'ports-help', onclick: () => this.help() },
            'How?',
          ),
        ),
      );
      return;
    }
    const list = h(
      'ul',
      { class: 'port-list', 'aria-label': `Ports of ${e.server.name}` },
      ...ports.map((p) => this.item(e, p)),
    );
    replaceKeepingFocus(e.body, list);
  }

  private drawProblem(e: Entry, err: unknown): void {
    const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    e.shown = '';
    replaceKeepingFocus(
      e.body,
      h('p', { class: 'error' }, `The ports of ${e.server.name} could not be read: ${message}`),
    );
  }

  private item(e: Entry, p: Port): HTMLElement {
    const s = e.server;
    const id = `${p.kind}-${p.port}`;
    const what = `port ${p.port} of ${s.name}`;
    const closed = p.state === 'closed';
    const parts: Node[] = [
      h('span', { class: 'port-number' }, String(p.port)),
      h('span', { class: 'port-command' }, p.command ?? 'a program'),
    ];
    if (p.kind === 'host') parts.push(h('span', { class: 'note' }, 'opened outside hubapps'));
    if (closed) parts.push(h('span', { class: 'port-state' }, 'not listening'));
    const actions = h('span', { class: 'port-actions' });
    if (!closed)
      actions.append(
        h(
          'a',
          {
            class: 'button primary',
            href: p.url,
            target: '_blank',
            rel: 'noopener',
            'data-key': `open-${id}`,
            'aria-label': `Open ${what}`,
          },
          'Open',
        ),
      );
    if (e.visitors || p.shared) actions.append(this.shareToggle(e, p, id, what));
    if (p.state !== 'listening')
      actions.append(
        h(
          'button',
          {
            type: 'button',
            'data-key': `forget-${id}`,
            'aria-label': `Forget ${what}`,
            onclick: (ev) => void this.forget(e, p, what, ev.currentTarget as HTMLButtonElement),
          },
          'Forget',
        ),
      );
    parts.push(actions);
    return h(
      'li',
      { class: closed ? 'port closed' : 'port', 'data-port': p.port, 'data-kind': p.kind },
      ...parts,
    );
  }

  private shareToggle(e: Entry, p: Port, id: string, what: string): HTMLElement {
    const box = h('input', {
      type: 'checkbox',
      'data-key': `share-${id}`,
      'aria-label': `Share ${what} with visitors`,
      checked: p.shared,
      onchange: (ev) => void this.share(e, p, what, ev.currentTarget as HTMLInputElement),
    });
    return h('label', { class: 'check port-share' }, box, ' Share with visitors');
  }

  private async share(e: Entry, p: Port, what: string, box: HTMLInputElement): Promise<void> {
    const shared = box.checked;
    await this.act(e, box, async () => {
      await api('PATCH', portPath(e.server, p), { shared });
      return shared
        ? `Visitors of ${e.server.name} may open port ${p.port}`
        : `Only you may open ${what}`;
    });
  }

  private async forget(e: Entry, p: Port, what: string, button: HTMLButtonElement): Promise<void> {
    await this.act(e, button, async () => {
      await api('DELETE', portPath(e.server, p));
      return `${what} was forgotten`;
    });
  }

  /** A port's control while its request runs: disabled, its outcome announced or shown, the server's ports read again either way. */
  private async act(
    e: Entry,
    control: HTMLButtonElement | HTMLInputElement,
    work: () => Promise<string>,
  ): Promise<void> {
    control.disabled = true;
    try {
      announce(await work());
    } catch (err) {
      showError(err instanceof ApiError ? err.message : String(err));
    } finally {
      e.shown = '';
      await this.load(e.server);
    }
  }
}

function keyOf(s: Server): string {
  return `${s.user}/${s.name}`;
}

/** API path of one port; a port opened outside hubapps is named by its kind too. */
function portPath(s: Server, p: Port): string {
  const path = `${serverPath(s.user, s.name)}/ports/${p.port}`;
  return p.kind === 'host' ? `${path}?kind=host` : path;
}

async function hasVisitors(s: Server): Promise<boolean> {
  const answer = await api<{ shareable: boolean; shares: Share[] }>(
    'GET',
    `${serverPath(s.user, s.name)}/shares`,
  );
  return answer.shareable && answer.shares.length > 0;
}
