import { api, ApiError, serverPath } from './api.js';
import { $, announce } from './dom.js';
import type { FormValue, Server, ServerEvent, ServerState } from './types.js';

/** What to start and where to go afterwards. */
export interface StartSpec {
  user: string;
  name: string;
  app: string;
  /** Shown in the dialog: the app's title. */
  title: string;
  /** The user's resource choices (host limits or a Slurm job's); none for most apps. */
  options?: Record<string, FormValue>;
  /** The launch form's values; none for apps without a form. */
  form?: Record<string, FormValue>;
  /** Go into the app once it is ready (autostart, start-on-visit, or the user's choice). */
  enter: boolean;
  /** Where to go in: a path below the server's URL (start-on-visit keeps the page that was asked for). */
  next?: string;
}

const ENTER_PREF = 'hubapps-enter-when-ready';
const BAR: Partial<Record<ServerState, number>> = { pending: 5, starting: 15, running: 100 };
const MAX_MESSAGES = 60;

/**
 * The start dialog: asks the API to start a server (or follows a start already under
 * way) and shows its progress stream live: a bar, the proxy's messages, then Open on
 * success, or the reason, the log's last lines and Retry on failure.
 */
export class ProgressView {
  private source: EventSource | undefined;
  private spec: StartSpec | undefined;
  private steps = 0;
  private rechecks = 0;
  private readonly el = {
    title: $('#progress-title'),
    bar: $<HTMLProgressElement>('#progress-bar'),
    state: $('#progress-state'),
    messages: $('#progress-messages'),
    failure: $('#progress-failure'),
    reason: $('#progress-reason'),
    log: $('#progress-log'),
    enter: $<HTMLInputElement>('#progress-enter'),
    open: $<HTMLAnchorElement>('#progress-open'),
    retry: $<HTMLButtonElement>('#progress-retry'),
  };

  /** `changed` runs after every start request and settled start, so lists refresh at once. */
  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly changed: () => void,
  ) {
    $('#progress-close', dialog).addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => this.detach());
    this.el.retry.addEventListener('click', () => this.spec && void this.start(this.spec));
    this.el.enter.addEventListener('change', () =>
      localStorage.setItem(ENTER_PREF, this.el.enter.checked ? '1' : ''),
    );
  }

  async start(spec: StartSpec): Promise<void> {
    this.show(spec, 'Asking the service to start it…');
    try {
      const server = await api<Server>('POST', serverPath(spec.user, spec.name), {
        app: spec.app,
        options: spec.options ?? {},
        form: spec.form ?? {},
      });
      this.follow(server);
    } catch (err) {
      this.fail(err instanceof ApiError ? err.message : String(err));
    } finally {
      this.changed();
    }
  }

  /** A start that is already under way, e.g. found by start-on-visit. */
  watch(spec: StartSpec, server: Server): void {
    this.show(spec, 'Following the start under way…');
    this.follow(server);
  }

  private show(spec: StartSpec, state: string): void {
    this.detach();
    this.spec = spec;
    this.steps = 0;
    this.rechecks = 0;
    this.el.title.textContent = `Starting ${spec.title}${spec.name === spec.app ? '' : ` (${spec.name})`}`;
    this.el.bar.value = 0;
    this.el.bar.classList.remove('failed');
    this.el.state.textContent = state;
    this.el.messages.replaceChildren();
    this.el.failure.hidden = true;
    this.el.open.hidden = true;
    this.el.retry.hidden = true;
    this.el.enter.checked = spec.enter || localStorage.getItem(ENTER_PREF) === '1';
    if (!this.dialog.open) this.dialog.showModal();
    this.el.title.focus();
  }

  private follow(server: Server): void {
    const source = new EventSource(server.progress_url);
    this.source = source;
    const onEvent = (e: MessageEvent<string>) => this.event(JSON.parse(e.data) as ServerEvent);
    source.addEventListener('state', onEvent);
    source.addEventListener('progress', onEvent);
    source.addEventListener('done', (e: MessageEvent<string>) => {
      this.detach();
      this.settled(JSON.parse(e.data) as Server);
    });
    source.onerror = () => {
      // CONNECTING: the browser resumes by itself (Last-Event-ID); CLOSED: the stream was refused.
      if (source.readyState === EventSource.CLOSED) void this.recheck(server);
    };
  }

  private event(ev: ServerEvent): void {
    if (ev.kind === 'state' && ev.state) {
      this.el.state.textContent = ev.message || ev.state;
      this.el.bar.value = Math.max(this.el.bar.value, BAR[ev.state] ?? this.el.bar.value);
      return;
    }
    this.steps++;
    this.el.bar.value = Math.max(this.el.bar.value, 15 + 80 * (1 - 0.75 ** this.steps));
    this.el.messages.append(
      Object.assign(document.createElement('li'), { textContent: ev.message }),
    );
    while (this.el.messages.childElementCount > MAX_MESSAGES)
      this.el.messages.firstElementChild!.remove();
    this.el.messages.scrollTop = this.el.messages.scrollHeight;
  }

  private settled(server: Server): void {
    this.changed();
    if (server.state === 'running') return this.ready(server);
    this.fail(server.reason ?? `The server is ${server.state}.`, server);
  }

  private ready(server: Server): void {
    const spec = this.spec!;
    this.el.bar.value = 100;
    this.el.state.textContent = `${spec.title} is ready.`;
    this.el.open.href = server.url;
    this.el.open.hidden = false;
    announce(`${spec.title} is ready`);
    if (this.el.enter.checked) {
      const next = spec.next?.startsWith(server.url) ? spec.next : server.url;
      location.assign(next);
      return;
    }
    this.el.open.focus();
  }

  private fail(reason: string, server?: Server): void {
    this.el.bar.classList.add('failed');
    this.el.state.textContent = 'The start failed.';
    this.el.reason.textContent = reason;
    this.el.failure.hidden = false;
    this.el.log.textContent = '';
    this.el.retry.hidden = false;
    announce(`The start failed: ${reason}`);
    this.el.retry.focus();
    if (server) void this.showLogTail(server);
  }

  private async showLogTail(server: Server): Promise<void> {
    try {
      const { lines, current_attempt } = await api<{ lines: string[]; current_attempt: number }>(
        'GET',
        `${serverPath(server.user, server.name)}/logs?tail=30`,
      );
      this.el.log.textContent = lines.length
        ? currentAttemptFirst(lines, current_attempt)
        : '(the log is empty)';
    } catch (err) {
      this.el.log.textContent = `(could not read the log: ${(err as Error).message})`;
    }
  }

  /** The stream broke off for good: ask for the server's state instead. */
  private async recheck(server: Server): Promise<void> {
    this.detach();
    try {
      const now = await api<Server>('GET', serverPath(server.user, server.name));
      if (now.state === 'running' || now.state === 'failed' || now.state === 'stopped')
        this.settled(now);
      else if (++this.rechecks <= 3) this.follow(now);
      else
        this.fail(
          `The progress stream keeps breaking off; the server is ${now.state}. Close this and watch "My servers".`,
        );
    } catch (err) {
      this.fail(err instanceof ApiError ? err.message : String(err));
    }
  }

  private detach(): void {
    this.source?.close();
    this.source = undefined;
  }
}

/** This attempt's lines first (they explain the failure on screen), then earlier attempts under a marked heading. */
function currentAttemptFirst(lines: string[], start: number): string {
  const now = lines.slice(start).join('\n');
  return start > 0
    ? `${now}\n\n── earlier attempts (older) ──\n${lines.slice(0, start).join('\n')}`
    : now;
}
