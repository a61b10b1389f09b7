/**
 * The shapes a HubBinding's values must have, checked by the service when the spawner
 * sends them and again by the proxy when it reads its start request: one set of rules, so
 * a binding the service accepted is never one the proxy refuses.
 */

/** JupyterHub's client ids (jupyterhub-user-NAME[-SERVER], escaped). */
export const HUB_CLIENT_ID = /^[A-Za-z0-9._~@%+-]{1,255}$/;
/** A scope such as access:servers!server=alice/lab. */
export const HUB_SCOPE = /^[\x21-\x7e]{1,512}$/;
/** The server's token at the hub: printable, no spaces (it travels in an Authorization header and a form body). */
export const HUB_API_TOKEN = /^[\x21-\x7e]{16,512}$/;
/** How many access scopes a binding may carry. */
export const HUB_MAX_SCOPES = 100;
