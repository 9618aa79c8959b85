// The dashboard shell: hash routing between pages, the node badge, toasts. Each page module exports
// { title, mount(main, params) } where mount returns a function that stops its timers/streams.
import { request, onUnauthorized, setToken, currentUser } from './api.js';
import { showLogin, renderSession } from './auth.js';
import { loadAccess, resetAccess, applyToNavigation } from './access.js';
import { h } from './format.js';
import * as cluster from './pages/cluster.js';
import * as load from './pages/load.js';
import * as storage from './pages/storage.js';
import * as keys from './pages/keys.js';
import * as watch from './pages/watch.js';
import * as maintenance from './pages/maintenance.js';
import * as users from './pages/users.js';

const pages = { cluster, load, storage, keys, watch, maintenance, users };
let stop = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [name, query] = raw.split('?');
  return { name: pages[name] ? name : 'cluster', params: new URLSearchParams(query || '') };
}

function stopPage() {
  if (stop) stop();
  stop = null;
}

// Auth is on and the token is missing, expired or stale: stop the page, forget the token, show the form.
// The form stays until a sign-in succeeds (later 401s while it shows change nothing).
let loginShown = false;
function login(reason) {
  if (loginShown) return;
  loginShown = true;
  stopPage();
  setToken(null);
  resetAccess();
  renderSession(() => login());
  for (const a of document.querySelectorAll('nav a')) a.removeAttribute('aria-current');
  document.body.dataset.access = 'signed-out';
  for (const li of document.querySelectorAll('nav li[data-needs]')) li.hidden = true; // until the next user's access is known
  showLogin(document.getElementById('main'), async () => {
    loginShown = false;
    renderSession(() => login());
    await refreshAccess();
    route();
  }, reason);
}

// Learns what the user may do (GET /auth/whoami) and shows only the navigation it can use. The page is
// mounted once this is known, so its buttons match the role (body[data-access] says "ready" then).
async function refreshAccess() {
  try {
    await loadAccess();
  } catch (e) {
    if (e.status === 401) return; // the login form is shown (onUnauthorized)
    console.warn(e); // unknown: everything stays shown, and the server still refuses what the role may not do
  }
  applyToNavigation();
  document.body.dataset.access = 'ready';
}

onUnauthorized(() => login(currentUser() ? 'Your session has expired (or was revoked): sign in again.' : undefined));

function route() {
  if (loginShown) return;
  const { name, params } = parseHash();
  stopPage();
  const main = document.getElementById('main');
  main.replaceChildren();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${pages[name].title} · RaftKv`;
  stop = pages[name].mount(main, params) || null;
  if (document.activeElement && document.activeElement.closest('nav')) main.focus({ preventScroll: true });
}

async function badge() {
  const el = document.getElementById('node-badge');
  try {
    const health = await request('/health').catch((e) => {
      if (e.status === 503) return { status: 'unhealthy', role: '?', node_id: '?' };
      throw e;
    });
    el.replaceChildren(h('span', {}, `node ${health.node_id} · `), h('span', { class: `role role-${health.role}` }, health.role),
      health.status === 'ok' ? '' : h('span', { class: 'alarm' }, ' · ALARM'));
  } catch {
    el.textContent = 'node unreachable';
  }
}

window.addEventListener('hashchange', route);
renderSession(() => login());
// Signed in (a token is held, so auth is on): mount the page once the user's access is known, so its buttons
// match the role. Otherwise mount at once: with auth off everything is shown anyway, and with auth on the
// first data call answers 401 and shows the sign-in form.
const accessKnown = refreshAccess();
if (currentUser()) accessKnown.then(route);
else route();
badge();
setInterval(badge, 5000);
