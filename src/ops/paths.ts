/** Where a default installation keeps what admin commands read (see layout.ts for all paths). */
export const DEFAULT_CONFIG = '/etc/hubapps/hubapps.yaml';
export const DEFAULT_UNIT = '/etc/systemd/system/hubapps.service';
