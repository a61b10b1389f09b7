import * as client from 'openid-client';
import type { Config } from '../config/schema.js';
import { HubappsError } from '../errors.js';

/**
 * hubapps as a JupyterHub OAuth client. JupyterHub publishes no discovery document, so the
 * endpoints are given by hand: the authorize page on the public hub URL (the browser goes
 * there), the token endpoint on the hub's internal API URL (the service calls it). State is
 * mandatory and PKCE is always sent: hubs without PKCE ignore it, and the client secret
 * (the service's api_token) still guards the code.
 */
export class HubOAuth {
  private readonly configuration: client.Configuration;

  constructor(
    hub: Config['jupyterhub'] & { api_url: string; api_token: string },
    publicOrigin: string,
    private readonly redirectUri: string,
  ) {
    const publicHub = hub.public_hub_url.startsWith('http')
      ? hub.public_hub_url
      : `${publicOrigin}${hub.public_hub_url}`;
    const api = hub.api_url.replace(/\/$/, '');
    this.configuration = new client.Configuration(
      {
        issuer: publicHub,
        authorization_endpoint: `${publicHub}api/oauth2/authorize`,
        token_endpoint: `${api}/oauth2/token`,
      },
      hub.client_id,
      { client_secret: hub.api_token, redirect_uris: [redirectUri] },
      client.ClientSecretPost(hub.api_token),
    );
    if (!publicHub.startsWith('https:') || !api.startsWith('https:'))
      client.allowInsecureRequests(this.configuration);
  }

  /** Where to send the browser, and the PKCE verifier to keep until the callback. */
  async authorizeUrl(state: string): Promise<{ url: string; verifier: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const url = client.buildAuthorizationUrl(this.configuration, {
      redirect_uri: this.redirectUri,
      response_type: 'code',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    return { url: url.href, verifier };
  }

  /**
   * Exchange the callback's code for an access token (state was already matched by the
   * caller). The callback URL is rebuilt from the registered redirect URI and the query the
   * browser brought: openid-client sends it as redirect_uri, which JupyterHub compares with
   * the service's oauth_redirect_uri, whatever path rewriting happened on the way in.
   */
  async exchange(query: string, state: string, verifier: string): Promise<string> {
    const callbackUrl = new URL(this.redirectUri);
    callbackUrl.search = query;
    try {
      const tokens = await client.authorizationCodeGrant(this.configuration, callbackUrl, {
        expectedState: state,
        pkceCodeVerifier: verifier,
      });
      return tokens.access_token;
    } catch (err) {
      throw new HubappsError('oauth_failed', `JupyterHub login failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
