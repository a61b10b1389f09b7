import assert from 'node:assert/strict';
import { HubStates, STATE_MAX_AGE_S } from '../../../../src/proxy/access/hub-state.js';

const cookieValue = (setCookie: string) => setCookie.split(';')[0]!.split('=').slice(1).join('=');

describe("the hub sign-in's state cookie", () => {
  const states = new HubStates(7, '/user/alice/lab/oauth_callback', true);

  it('is scoped to the callback, HttpOnly, Lax, Secure behind https and short-lived', () => {
    const { setCookie } = states.issue('/user/alice/lab/tree');
    assert.match(
      setCookie,
      /^hubapps-hub-state-7-[\w-]{12}=[\w.-]+; Path=\/user\/alice\/lab\/oauth_callback; HttpOnly; SameSite=Lax; Secure; Max-Age=600$/,
    );
  });

  it("names each sign-in's cookie after its state, so concurrent sign-ins of one browser keep theirs", () => {
    const one = states.issue('/user/alice/lab/a');
    const two = states.issue('/user/alice/lab/b');
    assert.ok(one.setCookie.startsWith(`${states.cookieName(one.state)}=`));
    assert.ok(two.setCookie.startsWith(`${states.cookieName(two.state)}=`));
    assert.notEqual(states.cookieName(one.state), states.cookieName(two.state));
    assert.equal(states.cookieName('not a state'), null);
  });

  it('gives back the page the sign-in was for when the state comes back unchanged', () => {
    const { state, setCookie } = states.issue('/user/alice/lab/tree?a=1');
    assert.equal(states.check(cookieValue(setCookie), state), '/user/alice/lab/tree?a=1');
  });

  it('refuses another state, a cookie with another page spliced in, one sealed by another proxy, and an old one', () => {
    const { state, setCookie } = states.issue('/user/alice/lab/');
    const value = cookieValue(setCookie);
    assert.equal(states.check(value, 'x'.repeat(state.length)), null);
    const parts = value.split('.');
    parts[2] = Buffer.from('/user/alice/lab/evil').toString('base64url');
    assert.equal(states.check(parts.join('.'), state), null);
    const other = new HubStates(7, '/user/alice/lab/oauth_callback', true).issue(
      '/user/alice/lab/',
    );
    assert.equal(states.check(cookieValue(other.setCookie), other.state), null);
    const old = states.issue('/user/alice/lab/', Date.now() - (STATE_MAX_AGE_S + 5) * 1000);
    assert.equal(states.check(cookieValue(old.setCookie), old.state), null);
    assert.equal(states.check('garbage', state), null);
  });
});
