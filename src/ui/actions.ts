import { api, ApiError, serverPath } from './api.js';
import { announce, h, showError } from './dom.js';
import type { Server } from './types.js';

export interface ActionHandlers {
  /** May this page open the server (its owner; an admin only with admin_access)? */
  canOpen(s: Server): boolean;
  /** How a server is named in button labels: "hello", or "alice/hello" in the admin view. */
  label(s: Server): string;
  logs(s: Server): void;
  /** Runs after a stop settles, to refresh the lists. */
  changed(): void;
  /** Start a stopped or failed server again (own servers). */
  restart?(s: Server): void;
  /** Reopen the progress of a start under way. */
  progress?(s: Server): void;
  /** Open the Sharing dialog (own servers). */
  share?(s: Server): void;
  /** Offer Remove for servers that have ended (own servers). */
  removable?: boolean;
}

/** The buttons of one server row: Open / Progress / Start / Stop / Sharing / Logs / Remove, as its state allows. */
export function serverActions(s: Server, x: ActionHandlers): Node[] {
  const name = x.label(s);
  const out: Node[] = [];
  const button = (key: string, text: string, aria: string, onclick: (ev: Event) => void) =>
    h('button', { type: 'button', 'data-key': key, 'aria-label': aria, onclick }, text);
  if (s.state === 'running' && x.canOpen(s))
    out.push(
      h(
        'a',
        { class: 'button primary', href: s.url, 'data-key': 'open', 'aria-label': `Open ${name}` },
        'Open',
      ),
    );
  if ((s.state === 'pending' || s.state === 'starting') && x.progress)
    out.push(button('progress', 'Progress', `Progress of ${name}`, () => x.progress!(s)));
  if ((s.state === 'stopped' || s.state === 'failed') && x.restart)
    out.push(button('start', 'Start', `Start ${name} again`, () => x.restart!(s)));
  if (s.state === 'pending' || s.state === 'starting' || s.state === 'running') {
    out.push(
      button(
        'stop',
        'Stop',
        `Stop ${name}`,
        (ev) => void stop(s, name, ev.currentTarget as HTMLButtonElement, x.changed),
      ),
    );
  }
  if (x.share) out.push(button('share', 'Sharing', `Sharing of ${name}`, () => x.share!(s)));
  out.push(button('logs', 'Logs', `Logs of ${name}`, () => x.logs(s)));
  if ((s.state === 'stopped' || s.state === 'failed') && x.removable)
    out.push(
      button(
        'remove',
        'Remove',
        `Remove ${name}`,
        (ev) => void remove(s, name, ev.currentTarget as HTMLButtonElement, x.changed),
      ),
    );
  return out;
}

/** Forget an ended server, after asking: its log and shares go with it. */
async function remove(
  s: Server,
  name: string,
  button: HTMLButtonElement,
  changed: () => void,
): Promise<void> {
  if (
    !confirm(
      `Remove ${name}? Its log and its shares go with it; you can start a new server with that name later.`,
    )
  )
    return;
  await busyWhile(button, null, changed, async () => {
    await api('DELETE', serverPath(s.user, s.name), { remove: true });
    return `${name} was removed`;
  });
}

function stop(s: Server, name: string, button: HTMLButtonElement, changed: () => void) {
  return busyWhile(button, 'Stopping…', changed, async () => {
    const after = await api<Server>('DELETE', serverPath(s.user, s.name));
    return `${name} is ${after.state}`;
  });
}

/** A row's button while its request runs: disabled (and relabelled), its outcome announced or shown, the lists refreshed either way. */
async function busyWhile(
  button: HTMLButtonElement,
  busyLabel: string | null,
  changed: () => void,
  work: () => Promise<string>,
): Promise<void> {
  const label = button.textContent;
  button.disabled = true;
  if (busyLabel) button.textContent = busyLabel;
  try {
    announce(await work());
  } catch (err) {
    showError(err instanceof ApiError ? err.message : String(err));
    button.disabled = false;
    button.textContent = label;
  } finally {
    changed();
  }
}
