/**
 * Browserless login through oidc-provider's devInteractions forms: follows
 * redirects with a cookie jar and submits the login and consent forms with
 * their own hidden inputs until the authorization server redirects to the
 * client's redirect URI.
 *
 * @module
 */

/** Parameters of {@linkcode authorizationCodeWithPkce}. */
export interface CodeFlowParams {
  /** The authorization endpoint. */
  authorizationEndpoint: string;
  /** The (public) client that logs in. */
  clientId: string;
  /** A redirect URI registered for the client (never fetched). */
  redirectUri: string;
  /** Requested scope, e.g. `openid offline_access`. */
  scope: string;
  /** The username typed into the login form (any password is accepted). */
  username: string;
}

/** The authorization code and the PKCE verifier to redeem it with. */
export interface AuthorizationCode {
  /** The authorization code. */
  code: string;
  /** The PKCE code_verifier matching the S256 challenge that was sent. */
  verifier: string;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The fields of the first `<form>` in `html`, with login/password filled in. */
function formFields(html: string, username: string): URLSearchParams {
  const form = html.slice(html.indexOf("<form"), html.indexOf("</form>"));
  const body = new URLSearchParams();
  for (const match of form.matchAll(/<input([^>]*)>/g)) {
    const name = match[1].match(/name="([^"]*)"/)?.[1];
    if (!name) continue;
    const value = match[1].match(/value="([^"]*)"/)?.[1] ?? "";
    body.set(name, name === "login" ? username : name === "password" ? "any" : value);
  }
  return body;
}

/**
 * Runs the authorization code flow with PKCE S256 and `prompt=consent`
 * (required for offline_access) through the dev login/consent pages.
 */
export async function authorizationCodeWithPkce(
  params: CodeFlowParams,
): Promise<AuthorizationCode> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = crypto.randomUUID();
  const query = new URLSearchParams({
    client_id: params.clientId,
    response_type: "code",
    redirect_uri: params.redirectUri,
    scope: params.scope,
    prompt: "consent",
    state,
    nonce: crypto.randomUUID(),
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  });
  const jar = new Map<string, string>();
  let url = `${params.authorizationEndpoint}?${query}`;
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const response = await fetch(url, {
      method: body ? "POST" : "GET",
      body,
      redirect: "manual",
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(";")[0];
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    body = undefined;
    const location = response.headers.get("location");
    if (location) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.href.startsWith(params.redirectUri)) {
        const error = next.searchParams.get("error");
        if (error) {
          throw new Error(
            `authorization failed: ${error} ${next.searchParams.get("error_description")}`,
          );
        }
        if (next.searchParams.get("state") !== state) {
          throw new Error("authorization state mismatch");
        }
        return { code: next.searchParams.get("code") ?? "", verifier };
      }
      url = next.href;
      continue;
    }
    const html = await response.text();
    const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1];
    if (!action) {
      throw new Error(
        `no redirect and no form at ${url} (${response.status}): ${html.slice(0, 300)}`,
      );
    }
    url = new URL(action.replaceAll("&amp;", "&"), url).href;
    body = formFields(html, params.username);
  }
  throw new Error("authorization flow: too many redirects");
}
