import type { Context } from 'koa';
import { HubappsError } from '../errors.js';
import type { StartInput } from '../lifecycle/start.js';
import { printable } from '../names.js';

/**
 * A state-changing request with a body must say it is JSON; anything else is refused before
 * parsing. JSON is UTF-8 (RFC 8259) and the parser reads it as such, so a body declared in
 * another charset is refused rather than read as something it says it is not.
 */
export function requireJson(ctx: Context): void {
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return;
  const charset = ctx.request.charset.toLowerCase();
  if (
    !ctx.is('application/json') ||
    (charset !== '' && charset !== 'utf-8' && charset !== 'utf8')
  ) {
    throw new HubappsError(
      'unsupported_media_type',
      'send the body as UTF-8 JSON (Content-Type: application/json)',
    );
  }
}

/** `{app, options, form}`: app required, options and form objects (keys are checked against the app later). */
export function parseStartBody(body: unknown): StartInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HubappsError(
      'invalid_body',
      'the body must be a JSON object {"app": NAME, "options": {}, "form": {}}',
    );
  const { app, options, form, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length)
    throw new HubappsError(
      'unknown_field',
      `unknown field '${printable(extra[0]!)}' in the body; expected {"app", "options", "form"}`,
    );
  if (typeof app !== 'string' || app === '')
    throw new HubappsError(
      'invalid_body',
      'field "app" (the app name from GET api/apps) is required',
    );
  if (
    options !== undefined &&
    (options === null || typeof options !== 'object' || Array.isArray(options))
  ) {
    throw new HubappsError('invalid_body', 'field "options" must be an object');
  }
  if (form !== undefined && (form === null || typeof form !== 'object' || Array.isArray(form)))
    throw new HubappsError(
      'invalid_body',
      'field "form" must be an object of launch form values by field name',
    );
  return {
    app,
    options: (options as Record<string, unknown> | undefined) ?? {},
    form: (form as Record<string, unknown> | undefined) ?? {},
  };
}

/** The optional body of a stop, `{"remove": true}` as JupyterHub takes it: forget the server too. */
export function parseStopBody(body: unknown): { remove: boolean } {
  if (body === undefined) return { remove: false };
  const { remove } = objectBody(body, ['remove']);
  if (remove !== undefined && typeof remove !== 'boolean')
    throw new HubappsError('invalid_body', 'field "remove" must be true or false');
  return { remove: remove === true };
}

/** A JSON object with only the `fields` named, as every endpoint with a body wants. */
export function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HubappsError('invalid_body', 'the body must be a JSON object');
  const extra = Object.keys(body).find((k) => !fields.includes(k));
  if (extra !== undefined)
    throw new HubappsError(
      'unknown_field',
      `unknown field '${printable(extra)}' in the body; expected ${fields.map((f) => `"${f}"`).join(', ')}`,
    );
  return body as Record<string, unknown>;
}
