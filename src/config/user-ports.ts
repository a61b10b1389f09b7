/** hubapps.yaml `user_ports`: which of a user's own listening ports the server's proxy may forward. */
import { z } from 'zod';
import { webOriginSchema } from './web-origin.js';

/** "A-B" (inclusive) or a single port N, as [first, last]. */
export const portRangeTextSchema = z
  .union([z.number(), z.string()])
  .transform((text, ctx): [number, number] => {
    const range = parsePortRange(text);
    if (range === null) {
      ctx.addIssue({
        code: 'custom',
        input: text,
        message: `'${String(text)}' is not a port or a range: write N or "A-B" with 1 <= A <= B <= 65535`,
      });
      return z.NEVER;
    }
    return range;
  })
  .meta({ type: 'port N or range "A-B"' });

/** [first, last] of "A-B" or N, or null when it is neither (ports 1-65535, A <= B). */
export function parsePortRange(text: number | string): [number, number] | null {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(String(text).trim());
  if (!m) return null;
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last > 65535 || first > last) return null;
  return [first, last];
}

export const userPortsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'May users reach ports their own programs listen on through their server\'s proxy (docs/apps.md, "Your own ports")? false turns it off for every app.',
      ),
    ranges: z
      .array(portRangeTextSchema)
      .min(1, 'list at least one port or range, or set enabled: false')
      .prefault(['1024-65535'])
      .describe(
        'Ports that may be forwarded, each N or "A-B". The proxy never forwards its own port or the app\'s {port}. An app file\'s `ports.ranges` can only narrow this.',
      ),
    host_ports: z
      .boolean()
      .default(false)
      .describe(
        "Also forward ports a user opened outside hubapps' servers on this host (an SSH session), through any of the user's running servers; only listeners of the user's own uid are ever reached.",
      ),
    max_open_per_user: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(20)
      .describe(
        "Most forwards one user's servers hold open at once, across all their servers. At the cap, a forward whose port nothing has listened on for a while is dropped to make room; otherwise the new port is refused until the owner closes one (launcher, or DELETE …/ports/PORT).",
      ),
    cors: z
      .array(
        z.strictObject({
          ports: portRangeTextSchema.describe('N or "A-B": the ports this rule covers.'),
          origins: z
            .array(webOriginSchema)
            .min(1, 'name at least one origin')
            .describe('Origins of the other sites allowed, e.g. ["https://app.example.org"].'),
        }),
      )
      .default([])
      .describe(
        'Cross-site calls to ports (CORS), each {ports, origins}: pages of these origins may call those ports with `Authorization: token` only; cookies are never accepted for them. Empty: no cross-site use.',
      ),
  })
  .prefault({})
  .describe(
    "Users' own ports: a program a user starts (TensorBoard, a Dask dashboard, a dev server) reached through the server's proxy, with the server's access rules.",
  );

export type UserPortsConfig = z.output<typeof userPortsSchema>;
