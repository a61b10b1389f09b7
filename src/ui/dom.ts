/** Building DOM without innerHTML: every string from the API lands in a text node or an attribute. */

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue | ((ev: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else if (value !== false && value !== null && value !== undefined)
      el.setAttribute(key, String(value));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function $<T extends Element = HTMLElement>(
  selector: string,
  root: ParentNode = document,
): T {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`launcher page: missing ${selector}`);
  return el;
}

/**
 * Replace a container's children (a row's buttons after a poll) without throwing the
 * keyboard user's focus away: a focused element with a data-key is refocused in the new set.
 */
export function replaceKeepingFocus(container: Element, ...nodes: Node[]): void {
  const focused = document.activeElement;
  const key =
    focused instanceof HTMLElement && container.contains(focused) ? focused.dataset.key : undefined;
  container.replaceChildren(...nodes);
  if (key) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** Read aloud by screen readers (a polite live region), not shown. */
export function announce(message: string): void {
  const region = $('#status');
  region.textContent = '';
  requestAnimationFrame(() => (region.textContent = message));
}

/** A problem the user should see: the API's message in the page's alert area. */
export function showError(message: string): void {
  const box = $('#notice');
  box.replaceChildren(
    h('p', {}, message),
    h('button', { type: 'button', class: 'link', onclick: () => (box.hidden = true) }, 'Dismiss'),
  );
  box.hidden = false;
}

/** Polling trouble (service restarting, network gone): shown until the next poll succeeds, separate from action errors. */
export function connectionProblem(message: string | null): void {
  const box = $('#offline');
  box.textContent = message ? `Lost contact with the service (${message}); retrying…` : '';
  box.hidden = message === null;
}
