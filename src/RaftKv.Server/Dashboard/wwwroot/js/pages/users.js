// Users & roles page (root only; hidden from other users): etcd's users with their roles and roles with their
// key permissions, read from GET /auth/users and GET /auth/roles, changed through the thin HTTP routes over the
// same replicated auth state etcdctl's user/role commands change (docs/api.md, "Users and roles over HTTP").
// Add/delete a user, grant/revoke a role; add/delete a role, grant/revoke a permission. Deletes ask first.
// The server judges every call (403 for a user without the root role, etcd's refusals as 409 auth_refused).
import { request } from '../api.js';
import { h, table, toast, pageHeader, describeError } from '../format.js';

export const title = 'Users & roles';

const types = { read: 'read', write: 'write', readwrite: 'read + write' };

const utf8 = new TextEncoder();

// The range end of a prefix (etcd's): the prefix with its last byte below 0xff incremented, in UTF-8 bytes.
function isPrefixEnd(key, end) {
  const k = Array.from(utf8.encode(key));
  while (k.length > 0 && k[k.length - 1] === 0xff) k.pop();
  if (k.length === 0) return false;
  k[k.length - 1]++;
  const e = utf8.encode(end);
  return e.length === k.length && k.every((b, i) => b === e[i]);
}

// etcd's range encoding as a person reads it: "" = the key alone, "\0" = every key from key on, a prefix as "key*".
function describeRange(p) {
  if (p.range_end === '') return h('code', {}, p.key);
  if (isPrefixEnd(p.key, p.range_end)) return h('code', { title: `every key starting with ${p.key}` }, p.key + '*');
  if (p.range_end === '\0') return p.key === '' ? 'every key' : [h('code', {}, p.key), ' and every key after it'];
  return ['[', h('code', {}, p.key), ', ', h('code', {}, p.range_end), ')'];
}

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

export function mount(main) {
  const head = pageHeader('Users & roles', 'etcd\'s users, roles and key permissions (the same ones etcdctl user / role manage). Only a user with the root role may see and change them.');
  const controller = new AbortController();
  const usersBox = h('section', { id: 'users', 'aria-label': 'Users' });
  const rolesBox = h('section', { id: 'roles', 'aria-label': 'Roles' });
  const confirm = h('dialog', { id: 'confirm-auth', 'aria-labelledby': 'confirm-auth-title' });
  let roleNames = [];
  let userNames = [];

  // Every change: the call, a toast, then the tables again (the change is replicated before the call returns).
  async function change(path, method, json, done) {
    try {
      await request(path, { method, json, signal: controller.signal });
      toast(done, 'ok');
      await load();
      return true;
    } catch (e) {
      if (e.name === 'AbortError') return false;
      toast(`Refused: ${describeError(e)}`, 'bad');
      return false;
    }
  }

  function ask(question, action) {
    confirm.replaceChildren(h('form', { method: 'dialog' },
      h('h2', { id: 'confirm-auth-title' }, question),
      h('p', {}, 'This cannot be undone.'),
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'),
        h('button', { value: 'yes', class: 'danger', id: 'confirm-auth-button' }, 'Delete'))));
    confirm.onclose = () => {
      if (confirm.returnValue === 'yes') action();
    };
    confirm.returnValue = '';
    confirm.showModal();
  }

  function options(names, placeholder) {
    return [h('option', { value: '' }, placeholder), ...names.map((n) => h('option', { value: n }, n))];
  }

  function renderUsers(users) {
    const rows = users.map((u) => h('tr', { 'data-user': u.name },
      h('th', { scope: 'row' }, u.name, u.no_password ? h('span', { class: 'muted' }, ' (certificate only)') : null),
      h('td', { class: 'chips' }, u.roles.length === 0 ? h('span', { class: 'muted' }, 'no roles') : u.roles.map((r) => h('span', { class: 'chip' }, r,
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Revoke role ${r} from ${u.name}`, title: `Revoke ${r}`,
          onclick: () => change(`/auth/users/${encodeURIComponent(u.name)}/roles/${encodeURIComponent(r)}`, 'DELETE', undefined, `Revoked ${r} from ${u.name}.`) }, '×')))),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete user ${u.name}`,
        onclick: () => ask(`Delete user ${u.name}?`, () => change(`/auth/users/${encodeURIComponent(u.name)}`, 'DELETE', undefined, `Deleted user ${u.name}.`)) }, 'Delete'))));

    const name = h('input', { id: 'new-user-name', required: true, autocomplete: 'off' });
    const password = h('input', { id: 'new-user-password', type: 'password', required: true, autocomplete: 'new-password' });
    const add = h('form', { class: 'controls', id: 'add-user', 'aria-label': 'Add a user' },
      field('new-user-name', 'New user', name), field('new-user-password', 'Their password', password), h('button', { type: 'submit' }, 'Add user'));
    add.addEventListener('submit', (e) => {
      e.preventDefault();
      change('/auth/users', 'POST', { name: name.value, password: password.value }, `Added user ${name.value}.`);
    });

    const user = h('select', { id: 'grant-user', required: true }, options(userNames, 'choose a user'));
    const role = h('select', { id: 'grant-role', required: true }, options(roleNames, 'choose a role'));
    const grant = h('form', { class: 'controls', id: 'grant-role-form', 'aria-label': 'Grant a role to a user' },
      field('grant-user', 'User', user), field('grant-role', 'Role', role), h('button', { type: 'submit' }, 'Grant role'));
    grant.addEventListener('submit', (e) => {
      e.preventDefault();
      change(`/auth/users/${encodeURIComponent(user.value)}/roles`, 'POST', { role: role.value }, `Granted ${role.value} to ${user.value}.`);
    });

    usersBox.replaceChildren(h('h2', {}, 'Users'),
      table('Users and their roles', ['User', 'Roles', ''], rows, { id: 'users-table' }), add, grant);
  }

  function renderRoles(roles) {
    const rows = roles.map((r) => h('tr', { 'data-role': r.name },
      h('th', { scope: 'row' }, r.name),
      h('td', { class: 'chips' }, r.name === 'root' ? h('span', { class: 'muted' }, 'everything (admin, every key)')
        : r.permissions.length === 0 ? h('span', { class: 'muted' }, 'no permissions') : r.permissions.map((p) => h('span', { class: 'chip' },
          `${types[p.type]} `, describeRange(p),
          h('button', { type: 'button', class: 'chip-x', 'aria-label': `Revoke ${r.name}'s permission on ${p.key}`, title: 'Revoke',
            onclick: () => change(`/auth/roles/${encodeURIComponent(r.name)}/permissions?key=${encodeURIComponent(p.key)}&range_end=${encodeURIComponent(p.range_end)}`,
              'DELETE', undefined, `Revoked ${r.name}'s permission on ${p.key}.`) }, '×')))),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete role ${r.name}`,
        onclick: () => ask(`Delete role ${r.name}?`, () => change(`/auth/roles/${encodeURIComponent(r.name)}`, 'DELETE', undefined, `Deleted role ${r.name}.`)) }, 'Delete'))));

    const name = h('input', { id: 'new-role-name', required: true, autocomplete: 'off' });
    const add = h('form', { class: 'controls', id: 'add-role', 'aria-label': 'Add a role' },
      field('new-role-name', 'Role name', name), h('button', { type: 'submit' }, 'Add role'));
    add.addEventListener('submit', (e) => {
      e.preventDefault();
      change('/auth/roles', 'POST', { name: name.value }, `Added role ${name.value}.`);
    });

    const role = h('select', { id: 'perm-role', required: true }, options(roleNames.filter((n) => n !== 'root'), 'choose a role'));
    const key = h('input', { id: 'perm-key', autocomplete: 'off', placeholder: 'app/' });
    const prefix = h('input', { id: 'perm-prefix', type: 'checkbox', checked: true });
    const type = h('select', { id: 'perm-type' }, Object.entries(types).map(([v, l]) => h('option', { value: v }, l)));
    const grant = h('form', { class: 'controls', id: 'grant-permission', 'aria-label': 'Grant a permission to a role' },
      field('perm-role', 'Role', role), field('perm-key', 'Key or prefix', key),
      h('div', { class: 'field check' }, prefix, h('label', { for: 'perm-prefix' }, 'every key with this prefix')),
      field('perm-type', 'Access', type), h('button', { type: 'submit' }, 'Grant permission'));
    grant.addEventListener('submit', (e) => {
      e.preventDefault();
      change(`/auth/roles/${encodeURIComponent(role.value)}/permissions`, 'POST', { key: key.value, prefix: prefix.checked, type: type.value },
        `Granted ${types[type.value]} on ${key.value || 'every key'}${prefix.checked ? '*' : ''} to ${role.value}.`);
    });

    rolesBox.replaceChildren(h('h2', {}, 'Roles'),
      table('Roles and their key permissions', ['Role', 'Permissions', ''], rows, { id: 'roles-table' }), add, grant);
  }

  async function load() {
    try {
      const [users, roles] = await Promise.all([request('/auth/users', { signal: controller.signal }), request('/auth/roles', { signal: controller.signal })]);
      userNames = users.users.map((u) => u.name);
      roleNames = roles.roles.map((r) => r.name);
      renderUsers(users.users);
      renderRoles(roles.roles);
      head.ok();
    } catch (e) {
      if (e.name === 'AbortError') return;
      head.fail(e);
    }
  }

  main.append(head.header, usersBox, rolesBox, confirm);
  load();
  return () => controller.abort();
}
