/**
 * The terminal page's script (served as terminal.js; it runs in the browser, not in
 * Node, which is why it is text here). It connects xterm.js to the WebSocket of
 * protocol.ts: keystrokes go out as binary frames, output comes in as binary frames and
 * is acknowledged once xterm.js has parsed it, resizes go out as JSON. A dropped
 * connection is retried with back-off (only while the tab is visible) and gets the same
 * shell back; after the shell's exit, or when the server stops, nothing is retried.
 *
 * Copy and paste: Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Cmd+C and
 * Cmd+V on macOS, and the context menu, work as usual).
 */
import { SOCKET_PATH } from './protocol.js';

export const BROWSER_SCRIPT = `'use strict';
(function () {
  var box = document.getElementById('terminal');
  var status = document.getElementById('status');
  var statusText = document.getElementById('status-text');
  var term = new Terminal({
    cursorBlink: true,
    scrollback: 5000,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    theme: { background: '#1e1e1e' }
  });
  var fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  term.focus();
  var encoder = new TextEncoder();
  var pageTitle = document.title;
  var ws = null;
  var ended = false;
  var failures = 0;
  var timer = null;

  function show(text) {
    statusText.textContent = text;
    status.hidden = !text;
  }
  function send(data) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(data);
  }
  function control(message) {
    send(JSON.stringify(message));
  }

  function connect() {
    timer = null;
    var url = new URL('${SOCKET_PATH}', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = '?cols=' + term.cols + '&rows=' + term.rows;
    var sock = new WebSocket(url.href);
    sock.binaryType = 'arraybuffer';
    ws = sock;
    sock.onopen = function () {
      failures = 0;
      show('');
    };
    sock.onmessage = function (event) {
      if (typeof event.data !== 'string') {
        var bytes = new Uint8Array(event.data);
        term.write(bytes, function () {
          if (ws === sock) control({ type: 'ack', bytes: bytes.length });
        });
        return;
      }
      var message = JSON.parse(event.data);
      if (message.type === 'attached') term.reset();
      else if (message.type === 'exit') {
        ended = true;
        show('The shell has ended' + (message.signal ? ' (' + message.signal + ')' : '') + '. Start the terminal again from the launcher.');
      }
    };
    sock.onclose = function (event) {
      if (ws !== sock) return;
      ws = null;
      if (ended) return;
      // 1001: the server is stopping or the shell is gone; there is nothing to reconnect to.
      if (event.code === 1001) {
        ended = true;
        return show('The terminal has stopped. Start it again from the launcher.');
      }
      retry();
    };
  }

  function retry() {
    if (document.hidden) return show('Disconnected.');
    var delay = Math.min(10000, 500 * Math.pow(2, failures++));
    show('Disconnected; reconnecting in ' + Math.ceil(delay / 1000) + ' s.');
    timer = setTimeout(connect, delay);
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && ws === null && !ended && timer === null) connect();
  });
  term.onData(function (data) {
    send(encoder.encode(data));
  });
  term.onBinary(function (data) {
    var bytes = new Uint8Array(data.length);
    for (var i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 255;
    send(bytes);
  });
  term.onResize(function (size) {
    control({ type: 'resize', cols: size.cols, rows: size.rows });
  });
  term.onTitleChange(function (title) {
    document.title = title || pageTitle;
  });
  term.attachCustomKeyEventHandler(function (event) {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
    if (event.code === 'KeyC') {
      if (term.hasSelection()) document.execCommand('copy');
      event.preventDefault();
      return false;
    }
    // Let the browser paste into xterm.js's input element, which sends it to the shell.
    return event.code !== 'KeyV';
  });
  new ResizeObserver(function () {
    fit.fit();
  }).observe(box);
  connect();
})();
`;
