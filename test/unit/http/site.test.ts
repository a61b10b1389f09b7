import assert from 'node:assert/strict';
import { sameSite, siteOf } from '../../../src/http/site.js';

describe('the registrable domain of a host name, without the Public Suffix List', () => {
  it('is the last two labels, or three under a short second level of a country code', () => {
    assert.equal(siteOf('hub.example.org'), 'example.org');
    assert.equal(siteOf('lab--alice.apps.example.org'), 'example.org');
    assert.equal(siteOf('hub.example.co.uk'), 'example.co.uk');
    assert.equal(siteOf('Example.ORG.'), 'example.org');
    assert.equal(siteOf('127.0.0.1'), '127.0.0.1');
    assert.equal(siteOf('localhost'), 'localhost');
  });

  it('tells a hub and apps under one domain from apps on their own', () => {
    assert.equal(sameSite('hub.example.org', 'apps.example.org'), true);
    assert.equal(sameSite('hub.example.co.uk', 'apps.example.co.uk'), true);
    assert.equal(sameSite('hub.example.org', 'apps-example.org'), false);
    assert.equal(sameSite('127.0.0.1', 'apps.localhost'), false);
  });
});
