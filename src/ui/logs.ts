import { api, ApiError, serverPath } from './api.js';
import { $ } from './dom.js';
import { isActive, type Server } from './types.js';

const TAIL = 500;
const FOLLOW_MS = 2000;

/** The log dialog: the last lines of a server's log, re-read every two seconds while following a server that runs. */
export class LogsView {
  private server: Server | undefined;
  private timer: number | undefined;
  private readonly title = $('#logs-title');
  private readonly text = $('#logs-text');
  private readonly follow = $<HTMLInputElement>('#logs-follow');
  private readonly note = $('#logs-note');

  constructor(private readonly dialog: HTMLDialogElement) {
    $('#logs-close', dialog).addEventListener('click', () => dialog.close());
    $('#logs-refresh', dialog).addEventListener('click', () => void this.load());
    this.follow.addEventListener('change', () => this.schedule());
    dialog.addEventListener('close', () => {
      clearTimeout(this.timer);
      this.server = undefined;
    });
  }

  open(server: Server): void {
    this.server = server;
    this.title.textContent = `Logs of ${server.name}${server.user ? ` (${server.user})` : ''}`;
    this.text.textContent = 'Loading…';
    this.follow.disabled = false;
    this.follow.checked = isActive(server);
    this.note.textContent = '';
    if (!this.dialog.open) this.dialog.showModal();
    this.text.focus();
    void this.load();
  }

  private async load(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const path = serverPath(server.user, server.name);
    try {
      const [{ lines }, now] = await Promise.all([
        api<{ lines: string[] }>('GET', `${path}/logs?tail=${TAIL}`),
        api<Server>('GET', path),
      ]);
      if (this.server !== server) return;
      const atBottom = this.text.scrollHeight - this.text.scrollTop - this.text.clientHeight < 24;
      this.text.textContent = lines.length ? lines.join('\n') : '(the log is empty)';
      if (atBottom || this.follow.checked) this.text.scrollTop = this.text.scrollHeight;
      if (!isActive(now)) {
        this.follow.checked = false;
        this.follow.disabled = true;
        this.note.textContent = `The server is ${now.state}: the log does not grow any more.`;
      }
    } catch (err) {
      this.note.textContent = `Could not read the log: ${err instanceof ApiError ? err.message : String(err)}`;
    }
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.server && this.follow.checked)
      this.timer = window.setTimeout(() => void this.load(), FOLLOW_MS);
  }
}
