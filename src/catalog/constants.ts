/**
 * The catalog's fixed vocabularies, apart from the schema (types.ts) so that the proxy can
 * use them without loading the schema library.
 */

/** The placeholders an app's command and environment may use. */
export const PLACEHOLDERS = ['port', 'unix_socket', 'base_url', 'user', 'server', 'home'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Record<Placeholder, string>;

/** Apps that ship with hubapps and run inside the user's hubapps-proxy (src/apps/). */
export const BUILTIN_APPS = ['terminal'] as const;
export type BuiltinApp = (typeof BUILTIN_APPS)[number];

/** Names of launch form fields, as {form.NAME} placeholders and API keys use them. */
export const FORM_FIELD_NAME = /^[a-z][a-z0-9_]*$/;
