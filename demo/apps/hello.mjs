// A tiny demo app: says who it runs as and what hubapps told it. Needs nothing installed.
import http from 'node:http';
import os from 'node:os';

const port = Number(process.argv[2]);
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

http
  .createServer((req, res) => {
    const env = Object.entries(process.env)
      .filter(([k]) => k.startsWith('JUPYTERHUB_') || k.startsWith('HUBAPPS_'))
      .map(([k, v]) => `<tr><td>${escape(k)}</td><td>${escape(v)}</td></tr>`)
      .join('');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hello from hubapps</title></head>
<body style="font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem">
<h1>Hello from hubapps</h1>
<p>This app runs as <b>${escape(os.userInfo().username)}</b> (uid ${process.getuid()}), pid ${process.pid}.</p>
<p>It received the path <code>${escape(req.url)}</code>.</p>
<table>${env}</table></body></html>`);
  })
  .listen(port, '127.0.0.1');
