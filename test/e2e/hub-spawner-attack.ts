/**
 * bob's page for the spawner test: published by his static-file app at /user/bob/SERVER/,
 * on the same origin as alice's server, and opened by alice (the hub lets her in through a
 * role). Each function tries one way to act on her server with her browser's credentials and
 * resolves with whatever the page got to see.
 */
export type AttackName = 'fetchApp' | 'frameApp' | 'formPost' | 'webSocket' | 'openWindow';

export function bobsAttackPage(target: string): string {
  return `<!doctype html><title>bob's page</title><h1 id="attack">bob's page</h1><script>
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function get(url, init) {
  try { const r = await fetch(url, Object.assign({ credentials: 'include' }, init)); return r.status + ' ' + (await r.text()); } catch (e) { return 'failed: ' + e.message; }
}
async function inFrame(load) {
  const name = 'sink' + Math.random();
  const f = document.createElement('iframe'); f.name = name; document.body.appendChild(f);
  await new Promise((r) => { f.onload = r; load(f, name); setTimeout(r, 4000); });
  await wait(500);
  try { return 'read: ' + f.contentDocument.body.innerText; } catch (e) { return 'blocked: ' + e.message; }
}
window.attack = {
  fetchApp: async () => [await get('${target}'), await get('${target}', { referrerPolicy: 'no-referrer' }), await get('${target}', { method: 'POST', body: 'x=1' })].join(' | '),
  frameApp: () => inFrame((f) => { f.src = '${target}'; }),
  formPost: () => inFrame((f, name) => {
    const form = document.createElement('form'); form.method = 'POST'; form.action = '${target}form'; form.target = name;
    form.innerHTML = '<input name="x" value="1">'; document.body.appendChild(form); form.submit();
  }),
  openWindow: async () => {
    const w = window.open('${target}');
    await wait(3000);
    try { return 'read: ' + w.document.body.innerText; } catch (e) { return 'no handle: closed=' + (w ? w.closed : 'null'); }
  },
  webSocket: () => new Promise((resolve) => {
    const ws = new WebSocket('ws://' + location.host + '${target}ws');
    const timer = setTimeout(() => resolve('timeout'), 5000);
    ws.onopen = () => ws.send('whoami');
    ws.onmessage = (m) => { clearTimeout(timer); resolve(String(m.data)); ws.close(); };
    ws.onerror = () => { clearTimeout(timer); resolve('refused'); };
  }),
};
</script>`;
}
