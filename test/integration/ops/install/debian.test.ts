import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { controlFile, postinst, postrm, prerm } from '../../../../src/ops/install/debian.js';
import { makeLayout } from '../../../../src/ops/install/layout.js';

describe('the Debian package: control file and maintainer scripts', () => {
  const layout = makeLayout({ name: 'lab' });

  it('writes maintainer scripts that sh parses, each acting only on the dpkg actions it is for', () => {
    for (const script of [postinst(layout), prerm(layout), postrm(layout)]) {
      assert.match(script, /^#!\/bin\/sh\n/);
      execFileSync('/bin/sh', ['-n'], { input: script });
    }
    assert.match(
      postinst(layout),
      /if \[ "\$1" = configure \]; then\n {2}\/usr\/bin\/node \/usr\/lib\/lab\/lib\/dist\/src\/cli\.js install --name lab --service-user lab --allowed-group lab-users\n/,
    );
    assert.match(
      postrm(layout),
      /case "\$1" in\n {2}remove\|purge\)/,
      'an upgrade (postrm upgrade) removes nothing',
    );
  });

  it("removes the installation's own files on remove, its state only on purge, and never another installation's", () => {
    const script = postrm(layout);
    const removeLine = /^ {4}rm -rf (.*)$/m.exec(script)![1]!.split(' ');
    assert.ok(
      removeLine.includes('/etc/sudoers.d/lab') &&
        removeLine.includes('/etc/sudoers.d/lab-port-guard'),
      'the sudoers rules go with the program they name',
    );
    for (const kept of ['/etc/lab', '/var/lib/lab', '/var/log/lab'])
      assert.ok(!removeLine.includes(kept), `remove took ${kept}`);
    assert.match(
      script,
      /if \[ "\$1" = purge \]; then\n {2}rm -rf \/etc\/lab \/var\/lib\/lab \/var\/log\/lab\n/,
    );
    const removed = [
      ...script.matchAll(/rm -rf (.*)$/gm),
      ...script.matchAll(/rmdir (\S+)/g),
    ].flatMap((m) => m[1]!.split(' '));
    for (const path of removed) assert.match(path, /\/lab(\b|-|\.)/, path);
  });

  it('writes a control file with the dependencies and a folded description', () => {
    const text = controlFile({
      name: 'lab',
      version: '1.2.3',
      architecture: 'amd64',
      description: 'short\nlong line\n\nafter a gap',
      installedKb: 42,
    });
    assert.match(text, /^Package: lab\nVersion: 1\.2\.3\nArchitecture: amd64\n/);
    assert.match(text, /^Depends: nodejs \(>= 20\.19\), sudo, nftables, python3, passwd$/m);
    assert.match(text, /^Description: short\n long line\n \.\n after a gap\n$/m);
  });
});
