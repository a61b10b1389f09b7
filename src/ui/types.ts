/** The shapes the API answers with (src/api/info.ts, present.ts), as the page uses them. */

export type ServerState = 'pending' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface Me {
  name: string;
  admin: boolean;
  admin_access: boolean;
  via: string;
  xsrf: string | null;
  autostart_app: string | null;
  hub_login: boolean;
}

export interface App {
  name: string;
  title: string;
  description: string;
  icon: string | null;
  /** 'slurm': the app runs as a Slurm job on a compute node. */
  runs_on: 'host' | 'slurm';
  /** What the user may choose when starting it (resources of a Slurm job). */
  options: StartOption[];
  /** No card: started only through a link to its visit page. */
  hidden: boolean;
  /** The heading its card is grouped under; null: first, under no heading. */
  category: string | null;
  /** May this user start it? Only false in an admin's list, which names every app. */
  usable: boolean;
  /** The launch form's fields, select options narrowed to what this user may pick. */
  form: FormField[];
  /** This user's values at their latest start of the app (those still allowed). */
  form_values: Record<string, FormValue>;
}

export type FormValue = string | number | boolean;

interface FieldBase {
  name: string;
  label: string;
  help: string;
}

/** A launch form field as GET api/apps shows it (src/api/present-form.ts). */
export type FormField = FieldBase &
  (
    | { type: 'select'; options: { value: string; label: string }[]; default: string }
    | { type: 'number'; min: number; max: number; step: number; default: number }
    | { type: 'text'; pattern: string; max_length: number; default: string }
    | { type: 'checkbox'; default: boolean }
    | { type: 'path'; kind: 'directory' | 'file'; default: string }
  );

/** A resource choice (host limits or a Slurm job's), shown as a field of the start dialog. */
export type StartOption =
  | { name: string; type: 'number'; label: string; min: number; max: number; default: number }
  | {
      name: string;
      type: 'select';
      label: string;
      options: { value: string; label: string }[];
      default: string;
    };

export interface Server {
  name: string;
  user: string;
  app: string;
  state: ServerState;
  ready: boolean;
  pending: 'spawn' | 'stop' | null;
  reason: string | null;
  url: string;
  public_url: string;
  progress_url: string;
  started: string | null;
  ready_at: string | null;
  stopped: string | null;
  last_activity: string | null;
}

/** A share of a server (src/api/shares.ts): exactly one of user and group. */
export interface Share {
  id: number;
  owner: string;
  server: string;
  app: string;
  state: ServerState;
  user?: string;
  group?: string;
  /** Shared-with-me answers only. */
  url?: string;
}

/** A port of a running server (GET api/users/USER/servers/NAME/ports). */
export interface Port {
  port: number;
  /** 'server': a process of the server listens; 'host': one the owner opened outside hubapps. */
  kind: 'server' | 'host';
  /**
   * 'closed': a port opened before that nothing listens on any more; 'unknown': the proxy
   * could not say (a port opened outside hubapps, which the server's listing does not cover).
   */
  state: 'listening' | 'closed' | 'unknown';
  /** The listening program's name, when known. */
  command: string | null;
  url: string;
  /** May the server's visitors (its shares) open this port? */
  shared: boolean;
}

export interface ServerEvent {
  id: number;
  at: string;
  kind: 'state' | 'progress' | 'audit';
  state: ServerState | null;
  message: string;
}

export const ACTIVE: readonly ServerState[] = ['pending', 'starting', 'running', 'stopping'];

export function isActive(s: Server): boolean {
  return ACTIVE.includes(s.state);
}
