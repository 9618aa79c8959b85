// What the signed-in user may do (GET /auth/whoami), so the dashboard shows only the pages and buttons the
// user can use. It decides nothing: the server judges every call, and a page reached by URL that the user may
// not use still shows the server's 403 plainly. With auth off every page and button is shown.
import { request } from './api.js';

// Until /auth/whoami answers, everything is shown (as with auth off): hiding is a convenience, not a guard.
const everything = { auth_enabled: false, user: null, roles: [], admin: true, may_read_keys: true, may_write_keys: true, permissions: [] };
let current = everything;

/** Asks the server who the caller is; keeps the answer (a failure keeps the previous one). */
export async function loadAccess() {
  current = (await request('/auth/whoami')) || everything;
  return current;
}

/** Forgets the signed-in user's access (sign out). */
export function resetAccess() {
  current = everything;
}

export function access() {
  return current;
}

const utf8 = new TextEncoder();

function compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// etcd's range encoding, in UTF-8 byte order: range_end "" = the key alone, "\0" = every key from key on.
function covers(p, key) {
  const k = utf8.encode(key), start = utf8.encode(p.key);
  if (p.range_end === '') return compare(k, start) === 0;
  if (compare(k, start) < 0) return false;
  return p.range_end === '\0' || compare(k, utf8.encode(p.range_end)) < 0;
}

/** True when the user may write (put, delete) this one key: root, auth off, or a write permission covering it. */
export function mayWrite(key) {
  return current.admin || current.permissions.some((p) => p.type !== 'read' && covers(p, key));
}

/** Shows the navigation entries the user may use (data-needs="admin" | "keys"), hides the others. */
export function applyToNavigation() {
  for (const li of document.querySelectorAll('nav li[data-needs]')) {
    const needs = li.dataset.needs;
    li.hidden = needs === 'admin' ? !current.admin : needs === 'keys' ? !current.may_read_keys : false;
  }
}
