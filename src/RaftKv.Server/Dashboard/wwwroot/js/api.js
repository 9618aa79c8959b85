// The one place the dashboard talks to the server: every request goes through request(), so an
// Authorization header (bearer token, when auth is on) is added here and nowhere else.
// The token lives in sessionStorage (this tab only, gone when it closes) so a reload stays signed in.
const TOKEN_KEY = 'raftkv.token';
const USER_KEY = 'raftkv.user';
let token = sessionStorage.getItem(TOKEN_KEY);
let unauthorized = null;

/** Sets (or clears with null) the bearer token sent with every request, and the user it belongs to. */
export function setToken(value, user) {
  token = value;
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    sessionStorage.setItem(USER_KEY, user || '');
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  }
}

/** The signed-in user's name, or null when no token is held. */
export function currentUser() {
  return token ? sessionStorage.getItem(USER_KEY) || '?' : null;
}

/** Registers the handler called (before the request throws) when the server answers 401 to a data
 *  call: auth is on and the token is missing, expired or stale. The shell shows the login form then. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** POST /auth/authenticate: on success keeps the token (setToken); throws ApiError otherwise
 *  (401 auth_failed: wrong user or password; 429 too_many_requests; 400 auth_refused: auth is off). */
export async function signIn(name, password) {
  const body = await request('/auth/authenticate', { method: 'POST', json: { name, password }, authCall: true });
  setToken(body.token, name);
  return body.token;
}

/** An error answered by the server: status and its {"error","code"} body (docs/api.md, "Errors"). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra) {
  const h = new Headers(extra || {});
  if (token) h.set('Authorization', 'Bearer ' + token);
  return h;
}

/** fetch + auth + JSON + errors. Returns the parsed JSON body (or null for an empty one). */
export async function request(path, { method = 'GET', json, signal, authCall = false } = {}) {
  const init = { method, headers: headers({ Accept: 'application/json' }), signal, cache: 'no-store' };
  if (json !== undefined) {
    init.headers.set('Content-Type', 'application/json');
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the node does not answer (' + e.message + ')');
  }
  const text = await response.text();
  let body = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, body?.code || 'http_' + response.status, body?.error || response.statusText);
    if (response.status === 401 && !authCall && unauthorized) unauthorized(error);
    throw error;
  }
  return body;
}

/**
 * Downloads a binary response (GET, with the bearer token) into a Blob, calling onProgress(received, total)
 * per chunk as it streams (total: the Content-Length, 0 when the server sent none). Resolves
 * { blob, filename (from Content-Disposition, or null), total }; throws ApiError as request() does.
 */
export async function download(path, onProgress, signal) {
  let response;
  try {
    response = await fetch(path, { headers: headers({ Accept: 'application/octet-stream' }), signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the node does not answer (' + e.message + ')');
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = new ApiError(response.status, body?.code || 'http_' + response.status, body?.error || response.statusText);
    if (response.status === 401 && unauthorized) unauthorized(error);
    throw error;
  }
  const total = Number(response.headers.get('Content-Length')) || 0;
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  onProgress(0, total);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  return { blob: new Blob(chunks, { type: 'application/octet-stream' }), filename: name ? name[1] : null, total: received };
}

/**
 * Reads a Server-Sent Events stream through fetch (not EventSource, which cannot send an
 * Authorization header). Calls onEvent(type, data, id) per event until the signal aborts
 * or the server ends the stream; resolves then.
 */
export async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = new ApiError(response.status, body?.code || 'http_' + response.status, body?.error || response.statusText);
    if (response.status === 401 && unauthorized) unauthorized(error);
    throw error;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let type = 'message', data = '', id = null;
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
          else if (line.startsWith('id: ')) id = line.slice(4);
        }
        onEvent(type, data ? JSON.parse(data) : null, id);
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  }
}

/** The /kv URL of a key: the whole key percent-encoded, its slashes as %2F (the server decodes them back,
 *  docs/api.md "Keys in the path"), so a key with a '.' or '..' segment is named as it is, not rewritten. */
export function kvPath(key) {
  return '/kv/' + encodeURIComponent(key);
}
