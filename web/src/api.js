// The Postbox API from the page: bearer token, JSON, and readable error texts for every failure.

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** The text a person should read for an error body of any of Postbox's faces. */
export function errorText(status, body) {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    if (typeof body.detail === 'string') return body.detail;            // Ona, inbox, gateway
    if (typeof body.message === 'string' && body.message) return body.message;  // DHIS2 WebMessage
    const fields = Object.entries(body).map(([field, value]) => {     // DRF's per-field errors
      const text = Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : JSON.stringify(value);
      return `${field}: ${text}`;
    });
    if (fields.length) return fields.join('; ');
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 500);
  if (status === 404) return 'Not found.';
  if (status >= 500) return `The server failed (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

export class Api {
  /**
   * @param {string} base  API base URL ('' = this origin)
   * @param {() => Promise<string|null>} token  the current access token (refreshed if need be)
   * @param {() => void} onUnauthorized  called on a 401 (the session is over)
   */
  constructor(base, token, onUnauthorized) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  /** The raw fetch Response (redirects followed), or an ApiError for network failures and 401. */
  async raw(method, path, { body, headers = {}, signal, keepalive = false } = {}) {
    const token = await this.token();
    let response;
    try {
      response = await fetch(this.base + path, {
        method, signal, body, keepalive,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
      });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError('Cannot reach Postbox: the network or the server is down.', 0, null);
    }
    if (response.status === 401) {
      this.onUnauthorized();
      throw new ApiError('Your session has ended: please sign in again.', 401, null);
    }
    return response;
  }

  async request(method, path, { json, text, query, signal, keepalive } = {}) {
    const headers = {};
    let body;
    if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
    if (text !== undefined) { headers['Content-Type'] = 'text/plain'; body = text; }
    if (query) {
      const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
      if ([...params].length) path += (path.includes('?') ? '&' : '?') + params;
    }
    const response = await this.raw(method, path, { body, headers: { Accept: 'application/json', ...headers }, signal, keepalive });
    const raw = await response.text();
    let data = null;
    if (raw) {
      try { data = JSON.parse(raw); } catch { data = raw; }
    }
    if (!response.ok) throw new ApiError(errorText(response.status, data), response.status, data);
    return data;
  }

  get(path, query) { return this.request('GET', path, { query }); }
  post(path, json) { return this.request('POST', path, { json }); }
  patch(path, json) { return this.request('PATCH', path, { json }); }
  delete(path) { return this.request('DELETE', path); }
}
