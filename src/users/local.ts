import { userInfo } from 'node:os';
import { checkUserName } from '../names.js';
import type { Account, UserDirectory } from './account.js';

/**
 * Local mode (demo, development): every syntactically valid user name stands for the
 * account the service runs as, because the local launcher starts servers without sudo.
 */
export class LocalUserDirectory implements UserDirectory {
  async lookup(name: string): Promise<Account> {
    checkUserName(name);
    const me = userInfo();
    return {
      name,
      uid: me.uid,
      gid: me.gid,
      home: me.homedir,
      shell: me.shell ?? '/bin/sh',
      groups: ['local'],
    };
  }
}
