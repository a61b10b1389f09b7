import { api, ApiError } from './api.js';
import { $, announce, h } from './dom.js';
import { when } from './format.js';
import type { Me } from './types.js';

interface Token {
  id: number;
  note: string;
  prefix: string;
  created: string;
  expires_at: string | null;
  last_used: string | null;
}

/**
 * The user's own API tokens: create one (its secret is shown once, here, and never again:
 * the service keeps only a hash), see each one's last use, delete it.
 */
export class TokensView {
  private readonly path: string;
  private readonly body = $('#tokens-table tbody');
  private readonly table = $('#tokens-table');
  private readonly empty = $('#tokens-empty');
  private readonly created = $('#token-created');
  private readonly problem = $('#tokens-problem');

  constructor(me: Me) {
    this.path = `users/${encodeURIComponent(me.name)}/tokens`;
    $<HTMLFormElement>('#token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.create();
    });
  }

  async load(): Promise<void> {
    try {
      const { tokens } = await api<{ tokens: Token[] }>('GET', this.path);
      this.render(tokens);
    } catch (err) {
      this.say(err);
    }
  }

  private render(tokens: Token[]): void {
    this.table.hidden = tokens.length === 0;
    this.empty.hidden = tokens.length > 0;
    this.body.replaceChildren(...tokens.map((t) => this.row(t)));
  }

  private row(t: Token): HTMLTableRowElement {
    const name = t.note || `${t.prefix}…`;
    const remove = h(
      'button',
      {
        type: 'button',
        'aria-label': `Delete token ${name}`,
        onclick: () => void this.remove(t, name),
      },
      'Delete',
    );
    return h(
      'tr',
      { 'data-token': t.id },
      h('td', { 'data-label': 'Note' }, t.note || '(no note)'),
      h('td', { 'data-label': 'Starts with' }, h('code', {}, `${t.prefix}…`)),
      h('td', { 'data-label': 'Created' }, when(t.created)),
      h('td', { 'data-label': 'Last used' }, t.last_used ? when(t.last_used) : 'never'),
      h('td', { 'data-label': 'Expires' }, t.expires_at ? when(t.expires_at) : 'never'),
      h('td', { class: 'actions' }, remove),
    );
  }

  private async create(): Promise<void> {
    const note = $<HTMLInputElement>('#token-note').value.trim();
    const days = Number($<HTMLSelectElement>('#token-expiry').value);
    try {
      const made = await api<Token & { token: string }>('POST', this.path, {
        note,
        ...(days > 0 ? { expires_in: days * 86400 } : {}),
      });
      $('#token-secret').textContent = made.token;
      this.created.hidden = false;
      $<HTMLInputElement>('#token-note').value = '';
      announce('Token created. Copy it now: it is shown only once.');
      $('#token-secret').focus();
      await this.load();
    } catch (err) {
      this.say(err);
    }
  }

  private async remove(t: Token, name: string): Promise<void> {
    if (!confirm(`Delete the token ${name}? Scripts that use it stop working.`)) return;
    try {
      await api('DELETE', `${this.path}/${t.id}`);
      announce(`Token ${name} deleted.`);
      await this.load();
    } catch (err) {
      this.say(err);
    }
  }

  private say(err: unknown): void {
    this.problem.textContent = err instanceof ApiError ? err.message : String(err);
    this.problem.hidden = false;
  }
}
