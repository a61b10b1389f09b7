import { h } from './dom.js';
import type { ServerState } from './types.js';

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const ABSOLUTE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "3 minutes ago", with the exact time as a tooltip and in <time datetime>. */
export function when(iso: string | null): Node {
  if (!iso) return document.createTextNode('—');
  const at = new Date(iso);
  return h('time', { datetime: iso, title: ABSOLUTE.format(at) }, ago(at));
}

export function ago(at: Date, now = Date.now()): string {
  const s = Math.round((at.getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return 'just now';
  if (abs < 3600) return RELATIVE.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return RELATIVE.format(Math.round(s / 3600), 'hour');
  return RELATIVE.format(Math.round(s / 86400), 'day');
}

const LABELS: Record<ServerState, string> = {
  pending: 'Queued',
  starting: 'Starting',
  running: 'Running',
  stopping: 'Stopping',
  stopped: 'Stopped',
  failed: 'Failed',
};

/** A state badge: the word carries the meaning, the colour only repeats it. */
export function stateBadge(state: ServerState): HTMLElement {
  return h('span', { class: `badge state-${state}` }, LABELS[state]);
}
