import { api, ApiError, serverPath } from './api.js';
import { $, announce, h } from './dom.js';
import type { Server, Share } from './types.js';

/**
 * The "Sharing" dialog of one of my servers: who it is shared with (each with Revoke), a
 * form to share it with a user or a Unix group, and a single-use share link. When the server cannot be shared (path
 * layout, sharing off, app not shareable) it says why and offers no form.
 */
export class SharingDialog {
  private server: Server | null = null;
  private readonly list: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly error: HTMLElement;
  private readonly reason: HTMLElement;

  constructor(private readonly dialog: HTMLDialogElement) {
    this.list = $('#share-list', dialog);
    this.form = $<HTMLFormElement>('#share-form', dialog);
    this.error = $('#share-error', dialog);
    this.reason = $('#share-reason', dialog);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.add();
    });
    $('#share-close', dialog).addEventListener('click', () => dialog.close());
    $('#share-link-make', dialog).addEventListener('click', () => void this.makeLink());
  }

  private async makeLink(): Promise<void> {
    const s = this.server!;
    try {
      const link = await api<{ url: string }>('POST', `${serverPath(s.user, s.name)}/share-links`, {
        uses: 1,
      });
      const field = $<HTMLInputElement>('#share-link-url', this.dialog);
      field.value = link.url;
      field.hidden = false;
      $('#share-link-help', this.dialog).hidden = false;
      field.select();
      announce('Share link made');
    } catch (err) {
      this.fail(err);
    }
  }

  async open(s: Server): Promise<void> {
    this.server = s;
    $('#share-title', this.dialog).textContent = `Sharing ${s.name}`;
    this.error.hidden = true;
    $('#share-link-url', this.dialog).hidden = true;
    $('#share-link-help', this.dialog).hidden = true;
    await this.load();
    if (!this.dialog.open) this.dialog.showModal();
  }

  private async load(): Promise<void> {
    const s = this.server!;
    try {
      const answer = await api<{ shareable: boolean; reason?: string; shares: Share[] }>(
        'GET',
        `${serverPath(s.user, s.name)}/shares`,
      );
      this.form.hidden = !answer.shareable;
      $('#share-link-box', this.dialog).hidden = !answer.shareable;
      this.reason.hidden = answer.shareable;
      this.reason.textContent = answer.reason ?? '';
      this.list.replaceChildren(...answer.shares.map((share) => this.item(share)));
      if (answer.shares.length === 0)
        this.list.append(h('li', { class: 'empty' }, 'Not shared with anyone.'));
    } catch (err) {
      this.fail(err);
    }
  }

  private item(share: Share): HTMLElement {
    const who = share.user !== undefined ? `user ${share.user}` : `group ${share.group ?? ''}`;
    const revoke = h(
      'button',
      {
        type: 'button',
        'data-key': 'revoke',
        'aria-label': `Stop sharing with ${who}`,
        onclick: () => void this.revoke(share, who),
      },
      'Revoke',
    );
    return h('li', { 'data-share': String(share.id) }, h('span', {}, who), ' ', revoke);
  }

  private async add(): Promise<void> {
    const s = this.server!;
    const kind =
      $<HTMLSelectElement>('#share-kind', this.dialog).value === 'group' ? 'group' : 'user';
    const input = $<HTMLInputElement>('#share-name', this.dialog);
    const name = input.value.trim();
    if (name === '') return this.fail(new Error('Enter a user or group name.'));
    try {
      await api('POST', `${serverPath(s.user, s.name)}/shares`, { [kind]: name });
      input.value = '';
      this.error.hidden = true;
      announce(`${s.name} is shared with ${kind} ${name}`);
      await this.load();
    } catch (err) {
      this.fail(err);
    }
  }

  private async revoke(share: Share, who: string): Promise<void> {
    const s = this.server!;
    try {
      await api('DELETE', `${serverPath(s.user, s.name)}/shares/${share.id}`);
      announce(`${s.name} is no longer shared with ${who}`);
      await this.load();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.error.textContent =
      err instanceof ApiError || err instanceof Error ? err.message : String(err);
    this.error.hidden = false;
  }
}

/** "Shared with me": servers of other users shared with me, with an Open link while they run. */
export async function refreshSharedWithMe(me: string): Promise<void> {
  const { shares } = await api<{ shares: Share[] }>(
    'GET',
    `users/${encodeURIComponent(me)}/shared-with-me`,
  );
  const rows = shares.map((s) =>
    h(
      'tr',
      { 'data-server': `${s.owner}/${s.server}` },
      h('td', { 'data-label': 'Owner' }, s.owner),
      h('td', { 'data-label': 'Server' }, s.server),
      h('td', { 'data-label': 'State' }, s.state),
      h(
        'td',
        { class: 'actions', 'data-label': 'Actions' },
        s.state === 'running' && s.url
          ? h(
              'a',
              {
                class: 'button primary',
                href: s.url,
                'data-key': 'open',
                'aria-label': `Open ${s.owner}/${s.server}`,
              },
              'Open',
            )
          : '',
      ),
    ),
  );
  $('#shared tbody').replaceChildren(...rows);
  $('#shared-section').hidden = shares.length === 0;
}
