import { z } from 'zod';
import { BUILTIN_APPS, type BuiltinApp } from './constants.js';
import { formSchema } from './form.js';
import { slurmAppSchema } from './slurm.js';
import { hostLimitsAppSchema } from '../limits/resources.js';
import { refusedAppEnvName } from '../protocol/app-env.js';
import { portRangeTextSchema } from '../config/user-ports.js';

export {
  BUILTIN_APPS,
  PLACEHOLDERS,
  type BuiltinApp,
  type Placeholder,
  type PlaceholderValues,
} from './constants.js';

/** One file in apps.d/: NAME.yaml. The app's name is the file name. */
export const appSchema = z
  .strictObject({
    title: z.string().min(1).max(80).describe('Shown on the launcher card.'),
    description: z
      .string()
      .max(500)
      .default('')
      .describe('One or two sentences for the launcher card.'),
    icon: z
      .string()
      .regex(
        /^[A-Za-z0-9._-]+\.(svg|png)$/,
        'must be a .svg or .png file name in the catalog directory',
      )
      .optional()
      .describe('Icon file next to the app file.'),
    command: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        'argv of the app (no shell). Placeholders: {port} {unix_socket} {base_url} {user} {server} {home}, and {form.NAME} for a field of `form`. Required unless `builtin` is set.',
      ),
    builtin: z
      .enum(BUILTIN_APPS)
      .optional()
      .describe(
        'A program that ships with hubapps instead of `command`: "terminal" is a shell in the browser, run inside the user\'s proxy.',
      ),
    environment: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _')
          .superRefine((name, ctx) => {
            const why = refusedAppEnvName(name);
            if (why) ctx.addIssue({ code: 'custom', message: why });
          }),
        z.string(),
      )
      .default({})
      .describe(
        'Extra environment variables (placeholders allowed), over hubapps.yaml\'s environment and env_keep; the JUPYTERHUB_* and HUBAPPS_* variables hubapps sets cannot be named (docs/apps.md, "The app\'s environment").',
      ),
    form: formSchema,
    ready: z
      .strictObject({
        path: z
          .string()
          .startsWith('/')
          .default('/')
          .describe("Path (below the app's base) polled until the app answers."),
        timeout: z
          .number()
          .positive()
          .max(3600)
          .optional()
          .describe('Seconds to wait for readiness (default: spawn_timeout).'),
        status_below: z
          .number()
          .int()
          .min(200)
          .max(600)
          .default(500)
          .describe('An HTTP status below this means ready.'),
        kind: z
          .enum(['http', 'tcp'])
          .default('http')
          .describe('"tcp": ready as soon as the port (or socket) accepts a connection.'),
      })
      .prefault({})
      .describe('How the proxy decides the app has started.'),
    strip_prefix: z
      .boolean()
      .default(true)
      .describe(
        'true: the app sees paths without /apps/{user}/{server}; false: the app is told {base_url} and gets the full path.',
      ),
    idle_timeout: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Seconds without requests after which the server is stopped (0: never).'),
    max_servers: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Most servers of this app active on the host at once (0: no limit).'),
    allowed_groups: z
      .array(z.string())
      .default([])
      .describe(
        'Only members of one of these groups may start the app or see it (on the launcher and in GET api/apps); empty: everyone in allowed_group.',
      ),
    hidden: z
      .boolean()
      .default(false)
      .describe(
        'true: no card on the launcher; the app still starts from a link to the launcher with ?start=APP (after a click) or through the API, for those allowed_groups lets in.',
      ),
    category: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe(
        'A heading the launcher groups this card under (e.g. "Notebooks", "Statistics"); apps without one come first, under no heading.',
      ),
    limits: hostLimitsAppSchema
      .optional()
      .describe(
        "Memory, CPU and processes of one server on this host (cgroups), and what users may choose; the admin's server_limits give the defaults and caps.",
      ),
    slurm: slurmAppSchema
      .optional()
      .describe(
        'Run the app as a Slurm job on a compute node (when the service config lists it under slurm.apps): resources and user choices.',
      ),
    shareable: z
      .boolean()
      .default(true)
      .describe(
        'false: servers of this app can never be shared with other users (config key sharing turns sharing off for every app).',
      ),
    ports: z
      .union([
        z.literal(false),
        z.strictObject({
          ranges: z
            .array(portRangeTextSchema)
            .min(1, 'list at least one port or range, or write ports: false')
            .describe(
              'Ports (N or "A-B") that may be forwarded for this app: inside user_ports.ranges.',
            ),
        }),
      ])
      .meta({ type: 'false, or {ranges: [...]}' })
      .optional()
      .describe(
        'Users\' own ports for servers of this app (docs/apps.md, "Your own ports"): false turns them off; {ranges: [...]} narrows the config\'s user_ports.ranges (every range must lie inside them). Absent: as user_ports says.',
      ),
  })
  .check(commandOrBuiltin);

/** An app runs either a command or a built-in program: exactly one of the two keys. */
function commandOrBuiltin(
  ctx: z.core.ParsePayload<{ command?: string[]; builtin?: BuiltinApp }>,
): void {
  const { command, builtin } = ctx.value;
  if (command === undefined && builtin === undefined) {
    const message =
      "required key is missing: give the argv of the app's program, or 'builtin: terminal' for the built-in terminal";
    ctx.issues.push({ code: 'custom', input: ctx.value, path: ['command'], message });
  } else if (command !== undefined && builtin !== undefined) {
    const message = `'builtin: ${builtin}' and 'command' exclude each other: a built-in app runs inside hubapps-proxy; remove one of them`;
    ctx.issues.push({ code: 'custom', input: ctx.value, path: ['builtin'], message });
  }
}

export type AppSpec = z.output<typeof appSchema>;

export interface CatalogApp extends AppSpec {
  /** File name without .yaml. */
  name: string;
  /** The file it was read from. */
  file: string;
}
