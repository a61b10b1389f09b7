/**
 * The terminal page: xterm.js filling the window, a status line that appears only
 * while the connection is down or after the shell has ended, and a link back to the
 * launcher. All URLs are relative, so the page works below any prefix.
 */
import { escapeHtml } from '../../http/html.js';

export interface PageInfo {
  /** The app's title from the catalog. */
  title: string;
  /** Public URL of the launcher. */
  launcher: string;
}

/** The tab's icon: a prompt. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1e1e1e"/><path d="M3 4l4 4-4 4" stroke="#4ec9b0" stroke-width="1.8" fill="none"/><path d="M8 12h5" stroke="#d4d4d4" stroke-width="1.8"/></svg>
`;

export function pageHtml(info: PageInfo): string {
  const title = escapeHtml(info.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="icon.svg">
<link rel="stylesheet" href="xterm.css">
<style>
html, body { height: 100%; margin: 0; background: #1e1e1e; }
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
#terminal { flex: 1; min-height: 0; padding: 4px 0 0 6px; }
#status { padding: 6px 10px; background: #5a1d1d; color: #fff; font-size: 14px; }
#status[hidden] { display: none; }
#status a { color: #9cdcfe; margin-left: 1em; }
</style>
</head>
<body>
<div id="status" role="status" hidden><span id="status-text"></span><a href="${escapeHtml(info.launcher)}">Back to the launcher</a></div>
<div id="terminal" aria-label="${title}"></div>
<script src="xterm.js"></script>
<script src="addon-fit.js"></script>
<script src="terminal.js"></script>
</body>
</html>
`;
}
