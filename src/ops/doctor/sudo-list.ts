/**
 * Reading `sudo -l` (or `sudo -l -U USER`) output, sudo 1.9's format:
 *
 *   Matching Defaults entries for hubapps on host:
 *       env_reset, mail_badpass, secure_path=/usr/local/sbin\:/usr/bin, use_pty
 *
 *   Runas and Command-specific defaults for hubapps:
 *       Defaults!/usr/lib/hubapps/bin/hubapps-proxy requiretty
 *
 *   User hubapps may run the following commands on host:
 *       (%hubapps-users, !root) NOPASSWD: /usr/lib/hubapps/bin/hubapps-proxy ""
 */

export interface SudoList {
  /** False when sudo says the user may not run anything. */
  allowed: boolean;
  /** Every Defaults entry that applies, in order (later ones win), command- and runas-specific ones included. */
  defaults: string[];
  /** One line per rule entry: "(runas) TAGS: commands". */
  rules: string[];
}

export interface ProxyRule {
  line: string;
  /** The last tag before the command is NOPASSWD. */
  nopasswd: boolean;
  /** The runas list lets the rule run the proxy as root. */
  asRoot: boolean;
  /** `PATH ""`: the command may take no arguments. */
  noArguments: boolean;
  /** The runas list excludes every account with uid 0 (`!#0`), not only the one named root. */
  excludesUid0: boolean;
}

export function parseSudoList(text: string): SudoList {
  const out: SudoList = {
    allowed: !/ is not allowed to run sudo on /.test(text),
    defaults: [],
    rules: [],
  };
  // sudo wraps long lines when it thinks it writes to a narrow terminal: continuation lines
  // are indented too, so each section is joined back before it is split into entries.
  let section: 'defaults' | 'specific' | 'rules' | undefined;
  let defaults = '';
  for (const raw of text.split('\n')) {
    if (/^Matching Defaults entries for /.test(raw)) section = 'defaults';
    else if (/^Runas and Command-specific defaults for /.test(raw)) section = 'specific';
    else if (/ may run the following commands on /.test(raw)) section = 'rules';
    else if (/^\s+\S/.test(raw) && section) {
      const line = raw.trim();
      if (section === 'defaults') defaults += ` ${line}`;
      else if (section === 'specific')
        out.defaults.push(...splitEntries(line.replace(/^Defaults\S*\s+/, '')));
      else if (line.startsWith('(') || out.rules.length === 0) out.rules.push(line);
      else out.rules[out.rules.length - 1] += ` ${line}`;
    }
  }
  out.defaults.unshift(...splitEntries(defaults.trim()));
  return out;
}

/** The value of a boolean Defaults flag: `requiretty` true, `!requiretty` false, undefined when not set. The last entry wins. */
export function flag(list: SudoList, name: string): boolean | undefined {
  let value: boolean | undefined;
  for (const entry of list.defaults) {
    if (entry === name) value = true;
    else if (entry === `!${name}`) value = false;
  }
  return value;
}

/** The value of `name=value` (sudo's backslash escapes removed), undefined when not set. */
export function setting(list: SudoList, name: string): string | undefined {
  let value: string | undefined;
  for (const entry of list.defaults) {
    if (entry.startsWith(`${name}=`))
      value = entry
        .slice(name.length + 1)
        .replace(/\\(.)/g, '$1')
        .replace(/^"(.*)"$/, '$1');
  }
  return value;
}

/** The rule that names `command`, if any. */
export function ruleFor(list: SudoList, command: string): ProxyRule | undefined {
  for (const line of list.rules) {
    const at = findCommand(line, command);
    if (at < 0) continue;
    const runas = /^\(([^)]*)\)/.exec(line)?.[1] ?? 'root';
    const tags = line.slice(0, at).match(/\b(NO)?PASSWD:/g) ?? [];
    return {
      line,
      nopasswd: tags.at(-1) === 'NOPASSWD:',
      asRoot:
        runas.split(/[,:]/).some((r) => ['ALL', 'root', '#0'].includes(r.trim())) &&
        !/!root\b/.test(runas),
      noArguments: line.slice(at + command.length).startsWith(' ""'),
      excludesUid0: /!#0(?!\d)/.test(runas),
    };
  }
  return undefined;
}

/** Where `command` stands in `line` as a whole word, or -1. */
function findCommand(line: string, command: string): number {
  for (let at = line.indexOf(command); at >= 0; at = line.indexOf(command, at + 1)) {
    const before = line[at - 1];
    const after = line[at + command.length];
    if (
      (before === ' ' || before === ',') &&
      (after === undefined || after === ' ' || after === ',')
    )
      return at;
  }
  return -1;
}

/** "a, b\, c, d" -> [a, "b\, c", d]: commas escaped with a backslash belong to the value. */
function splitEntries(line: string): string[] {
  return line
    .split(/(?<!\\),\s+/)
    .map((e) => e.trim())
    .filter(Boolean);
}
