// The one place the dashboard talks to the server: every request goes through request(), so an
// Authorization header (bearer token, when auth is on) is added here and nowhere else.
let token = null;

/** Sets (or clears with null) the bearer token sent with every request. */
export function setToken(value) {
  token = value;
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
export async function request(path, { method = 'GET', json, signal } = {}) {
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
    throw new ApiError(response.status, body?.code || 'http_' + response.status, body?.error || response.statusText);
  }
  return body;
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
    throw new ApiError(response.status, body?.code || 'http_' + response.status, body?.error || response.statusText);
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

/** The /kv URL of a key: each '/'-separated segment percent-encoded, the slashes kept. */
export function kvPath(key) {
  return '/kv/' + key.split('/').map(encodeURIComponent).join('/');
}
