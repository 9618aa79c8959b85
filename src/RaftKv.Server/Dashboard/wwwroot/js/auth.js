// Signing in when auth is on: the login form (shown when a data call answers 401) and the header's
// "signed in as X · Sign out" control. The token itself is kept by api.js (sessionStorage + setToken).
import { signIn, setToken, currentUser } from './api.js';
import { h } from './format.js';

/** Renders the login form into main and focuses the user name field. onSignedIn() runs once the
 *  server has issued a token. `reason` (optional) says why the form is shown (e.g. session expired). */
export function showLogin(main, onSignedIn, reason) {
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert', hidden: true });
  const form = h('form', { id: 'login', class: 'login', 'aria-labelledby': 'login-h' },
    h('div', { class: 'field' }, h('label', { for: 'login-name' }, 'User name'), name),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    submit, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await signIn(name.value, password.value);
      onSignedIn();
    } catch (e) {
      error.textContent = e.status === 401 ? 'Wrong user name or password.'
        : e.status === 429 ? 'Too many failed attempts: wait a minute and try again.'
          : e.status === 400 ? 'Authentication is not enabled on this cluster: no sign-in is needed.'
            : `Sign-in failed: ${e.message}`;
      error.hidden = false;
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(h('section', { class: 'page-head' },
    h('h1', { id: 'login-h' }, 'Sign in'),
    h('p', { class: 'intro' }, reason || 'Authentication is enabled on this cluster: sign in with an etcd user to see its data.')), form);
  document.title = 'Sign in · RaftKv';
  name.focus();
}

/** Shows "signed in as X" and a Sign out button in the header (or nothing when no one is signed in). */
export function renderSession(onSignOut) {
  const el = document.getElementById('session');
  const user = currentUser();
  if (!user) {
    el.replaceChildren();
    return;
  }
  el.replaceChildren(h('span', { id: 'signed-in-as' }, 'signed in as ', h('strong', {}, user)), ' ',
    h('button', { type: 'button', id: 'sign-out', class: 'secondary', onclick: () => {
      setToken(null);
      renderSession(onSignOut);
      onSignOut();
    } }, 'Sign out'));
}
