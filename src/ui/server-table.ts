import { h, replaceKeepingFocus } from './dom.js';
import { stateBadge, when } from './format.js';
import type { Server } from './types.js';

export interface Column {
  label: string;
  cell(s: Server): Node | string;
}

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  actions: HTMLTableCellElement;
  actionsFor: string;
  detail: HTMLTableRowElement | null;
}

export const COLUMNS: Record<'user' | 'name' | 'app' | 'state' | 'started' | 'activity', Column> = {
  user: { label: 'User', cell: (s) => s.user },
  name: { label: 'Server', cell: (s) => s.name },
  app: { label: 'App', cell: (s) => s.app },
  state: { label: 'State', cell: (s) => stateCell(s) },
  started: { label: 'Started', cell: (s) => when(s.started) },
  activity: { label: 'Last activity', cell: (s) => when(s.last_activity) },
};

/**
 * A table of servers kept current in place: polls update the cells of existing rows, and
 * a row's buttons are rebuilt only when its state changes, so a keyboard user's focus
 * survives the refresh. On narrow screens CSS turns each row into a card (data-label).
 * `detail` may give a server a second row under its own (its ports), which moves with it.
 */
export class ServerTable {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly columns: Column[],
    private readonly actions: (s: Server) => Node[],
    private readonly detail: (s: Server) => HTMLTableRowElement | null = () => null,
  ) {}

  /** How many cells a row has, for a detail row that spans them all. */
  get width(): number {
    return this.columns.length + 1;
  }

  update(servers: Server[]): void {
    const seen = new Set<string>();
    let before: Element | null = null;
    for (const s of servers) {
      const key = `${s.user}/${s.name}`;
      seen.add(key);
      const row = this.rows.get(key) ?? this.add(key);
      this.columns.forEach((c, j) => row.cells[j]!.replaceChildren(c.cell(s)));
      const actionsFor = `${s.state}|${s.app}`;
      if (row.actionsFor !== actionsFor) {
        replaceKeepingFocus(row.actions, ...this.actions(s));
        row.actionsFor = actionsFor;
      }
      // Moving a row that holds focus would blur it: move rows only when the order really changed.
      before = this.place(row.tr, before);
      const detail = this.detail(s);
      if (detail) before = this.place(detail, before);
      if (row.detail && row.detail !== detail) row.detail.remove();
      row.detail = detail;
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        row.detail?.remove();
        this.rows.delete(key);
      }
    }
  }

  /** Put `tr` right after `before` (first when null) unless it is there already; returns it. */
  private place(tr: HTMLTableRowElement, before: Element | null): HTMLTableRowElement {
    const want = before ? before.nextElementSibling : this.tbody.firstElementChild;
    if (want !== tr) this.tbody.insertBefore(tr, want);
    return tr;
  }

  private add(key: string): Row {
    const cells = this.columns.map((c) => h('td', { 'data-label': c.label }));
    const actions = h('td', { class: 'actions', 'data-label': 'Actions' });
    const tr = h('tr', { 'data-server': key }, ...cells, actions);
    const row: Row = { tr, cells, actions, actionsFor: '', detail: null };
    this.rows.set(key, row);
    return row;
  }
}

function stateCell(s: Server): Node {
  const badge = stateBadge(s.state);
  if (s.state !== 'failed' || !s.reason) return badge;
  return h('span', {}, badge, ' ', h('span', { class: 'reason' }, s.reason));
}
