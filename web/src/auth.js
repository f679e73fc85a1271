// Signing in. Locally: pick a user of the local directory, get a token from the local-only /local/token.
// In AWS: the Cognito hosted UI (authorization code + PKCE), tokens refreshed before they expire.
// The session lives in localStorage so every tab of this browser shares it.

const KEY = 'postbox.session';
const PKCE_KEY = 'postbox.pkce';
const REFRESH_MARGIN_MS = 60_000;

export function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

function sessionFrom(tokens, name) {
  const claims = claimsOf(tokens.access_token);
  const user = claims.username || claims['cognito:username'];
  if (!user) throw new Error('The access token names no user.');
  return {
    user, name: name || user, token: tokens.access_token, refreshToken: tokens.refresh_token || null,
    expiresAt: (claims.exp || 0) * 1000,
  };
}

export function loadSession() {
  try {
    const session = JSON.parse(localStorage.getItem(KEY));
    if (session && session.token && session.user) return session;
  } catch { /* no session */ }
  return null;
}

function saveSession(session) { localStorage.setItem(KEY, JSON.stringify(session)); }
export function clearSession() { localStorage.removeItem(KEY); }
export const SESSION_KEY = KEY;

async function fetchJson(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new Error(`Cannot reach ${new URL(url, location.href).host}: the network or the server is down.`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const text = data && (data.detail || data.error_description || data.error);
    throw new Error(text ? String(text) : `Sign-in failed (HTTP ${response.status}).`);
  }
  return data;
}

// -- the session cookie: links to attachments carry it, never a bearer header (docs/dhis2.md#browser-sessions) ----

function sessionUrl(config) { return `${config.api_base || ''}/api/v1/session`; }

async function startCookieSession(config, session) {
  try {
    await fetch(sessionUrl(config), {
      method: 'POST', credentials: 'same-origin', headers: { Authorization: `Bearer ${session.token}` },
    });
  } catch { /* downloads by link then answer 401; everything else uses the bearer header */ }
  return session;
}

function endCookieSession(config) {
  const session = loadSession();
  if (!session) return;
  fetch(sessionUrl(config), {
    method: 'DELETE', credentials: 'same-origin', keepalive: true,
    headers: { Authorization: `Bearer ${session.token}` },
  }).catch(() => {});
}

// -- local stack -------------------------------------------------------------------------------------

export function localUsers(config) { return fetchJson(config.auth.users_url); }

export async function localSignIn(config, user, name) {
  const url = `${config.auth.token_url}?${new URLSearchParams({ user })}`;
  const { token } = await fetchJson(url);
  const session = sessionFrom({ access_token: token }, name);
  saveSession(session);
  return startCookieSession(config, session);
}

// -- Cognito hosted UI ---------------------------------------------------------------------------------

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomText = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = (config) => config.auth.redirect_uri || `${location.origin}/`;

export async function cognitoStart(config) {
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  // The hash (a link to an item, from an email) comes back with the redirect: Cognito's redirect_uri has none.
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const params = new URLSearchParams({
    response_type: 'code', client_id: config.auth.client_id, redirect_uri: redirectUri(config),
    scope: config.auth.scope || 'openid postbox/user', state, code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${config.auth.domain}/oauth2/authorize?${params}`);
}

/** Completes a hosted-UI redirect (?code=&state=) if this page load is one; returns the session or null. */
export async function cognitoFinish(config) {
  const params = new URLSearchParams(location.search);
  if (params.has('error')) {
    history.replaceState(null, '', location.pathname);
    throw new Error(`Sign-in was refused: ${params.get('error_description') || params.get('error')}`);
  }
  if (!params.has('code')) return null;
  const pkce = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', location.pathname + (pkce?.hash || ''));
  if (!pkce || pkce.state !== params.get('state')) throw new Error('Sign-in could not be verified: please try again.');
  const tokens = await fetchJson(`${config.auth.domain}/oauth2/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: config.auth.client_id, code: params.get('code'),
      redirect_uri: redirectUri(config), code_verifier: pkce.verifier,
    }),
  });
  const session = sessionFrom(tokens);
  saveSession(session);
  return startCookieSession(config, session);
}

async function cognitoRefresh(config, session) {
  const tokens = await fetchJson(`${config.auth.domain}/oauth2/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token', client_id: config.auth.client_id, refresh_token: session.refreshToken,
    }),
  });
  const fresh = { ...sessionFrom({ ...tokens, refresh_token: session.refreshToken }), name: session.name };
  saveSession(fresh);
  return startCookieSession(config, fresh);
}

/** A token valid for at least another minute (refreshed through Cognito when it can be), or null. */
export async function currentToken(config) {
  let session = loadSession();
  if (!session) return null;
  if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    if (config.auth.mode !== 'cognito' || !session.refreshToken) return session.token;  // the API will say 401
    session = await cognitoRefresh(config, session);
  }
  return session.token;
}

export function signOut(config) {
  endCookieSession(config);
  clearSession();
  if (config.auth.mode === 'cognito') {
    const params = new URLSearchParams({ client_id: config.auth.client_id, logout_uri: redirectUri(config) });
    location.assign(`${config.auth.domain}/logout?${params}`);
  } else {
    location.reload();
  }
}
