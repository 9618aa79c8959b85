// Keys page: browse by prefix (GET /kv?prefix=&limit=&continuation=, linearizable), view a value as
// text, JSON or hex with its revisions and lease, edit (PUT with prev_version = the mod revision seen, so
// a concurrent change is refused, not overwritten) and delete (after a confirmation dialog). Writes go
// through /kv, which forwards them to the leader.
import { request, kvPath, ApiError } from '../api.js';
import { access, mayWrite } from '../access.js';
import { h, num, table, toast, valueBytes, hexDump, describeError } from '../format.js';

export const title = 'Keys';

const PAGE = 25;

function preview(item) {
  if (item.encoding === 'base64') return `(binary, ${valueBytes(item).length} bytes)`;
  return item.value.length > 60 ? item.value.slice(0, 60) + '…' : item.value;
}

function render(item, mode) {
  const data = valueBytes(item);
  if (mode === 'hex') return hexDump(data);
  if (mode === 'json') {
    if (item.encoding === 'base64') return 'Not JSON: the value is not UTF-8 text.';
    try {
      return JSON.stringify(JSON.parse(item.value), null, 2);
    } catch (e) {
      return 'Not JSON: ' + e.message;
    }
  }
  return item.encoding === 'base64' ? '(not UTF-8 text: see hex)' : item.value;
}

export function mount(main, params) {
  let prefix = params.get('prefix') || '';
  let selected = params.get('key');
  let pages = ['']; // continuation token of each page seen, for "Previous"
  let page = 0;
  let mode = 'text';
  let current = null;
  let listing = 0; // generation of the newest list(): an older response arriving later is dropped
  const controller = new AbortController();

  const prefixInput = h('input', { id: 'prefix', name: 'prefix', type: 'search', value: prefix, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. /app/' });
  const form = h('form', { class: 'controls', role: 'search', 'aria-label': 'Browse keys' },
    h('label', { for: 'prefix' }, 'Key prefix'), prefixInput, h('button', { type: 'submit', id: 'list-button' }, 'List'),
    access().may_write_keys ? h('button', { type: 'button', id: 'new-key', class: 'secondary', onclick: () => showCreate() }, 'New key') : null);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    prefix = prefixInput.value;
    pages = [''];
    page = 0;
    syncHash();
    list();
  });
  const listBox = h('section', { class: 'key-list', 'aria-label': 'Keys', 'aria-busy': 'false' });
  const detail = h('section', { class: 'key-detail', id: 'key-detail', 'aria-label': 'Selected key', tabindex: '-1' });
  const confirm = h('dialog', { id: 'confirm-delete', 'aria-labelledby': 'confirm-title' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Keys'),
    h('p', { class: 'intro' }, 'Browse, view, edit and delete keys. Reads are linearizable; writes go to the leader.')), form,
  h('div', { class: 'split' }, listBox, detail), confirm);

  function syncHash() {
    const q = new URLSearchParams();
    if (prefix) q.set('prefix', prefix);
    if (selected) q.set('key', selected);
    history.replaceState(null, '', '#/keys' + (q.toString() ? '?' + q : ''));
  }

  function fail(where, e) {
    if (e.name === 'AbortError') return;
    where.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(e)));
  }

  async function list() {
    const generation = ++listing;
    listBox.setAttribute('aria-busy', 'true');
    // The pager shown belongs to the previous listing: until this one answers, paging it would mix the two.
    for (const b of listBox.querySelectorAll('.pager button')) b.disabled = true;
    try {
      const q = new URLSearchParams({ prefix, limit: String(PAGE) });
      if (pages[page]) q.set('continuation', pages[page]);
      const r = await request('/kv?' + q, { signal: controller.signal });
      if (generation !== listing) return;
      if (r.more && pages.length === page + 1) pages.push(r.next);
      const rows = r.items.map((it) => h('tr', { class: it.key === selected ? 'selected' : null },
        h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link key-link', 'data-key': it.key, onclick: () => select(it.key) }, it.key)),
        h('td', { class: 'preview' }, preview(it)),
        h('td', { class: 'num' }, num(it.mod_revision)),
        h('td', { class: 'num' }, num(it.key_version)),
        h('td', { class: 'num' }, it.lease ? it.lease.toString(16) : '—')));
      const nav = h('div', { class: 'pager' },
        h('button', { type: 'button', class: 'secondary', id: 'prev-page', disabled: page === 0, onclick: () => { page--; list(); } }, '← Previous'),
        h('span', { 'aria-live': 'polite' }, `Page ${page + 1}${r.count ? `, ${r.count} key${r.count === 1 ? '' : 's'}` : ''}`),
        h('button', { type: 'button', class: 'secondary', id: 'next-page', disabled: !r.more, onclick: () => { page++; list(); } }, 'Next →'));
      listBox.replaceChildren(r.items.length === 0
        ? h('p', { id: 'no-keys' }, prefix ? `No key starts with "${prefix}".` : 'The store is empty.')
        : table(prefix ? `Keys starting with "${prefix}"` : 'All keys', ['Key', 'Value', 'Mod revision', 'Version', 'Lease'], rows, { id: 'keys-table' }), nav);
    } catch (e) {
      if (generation === listing) fail(listBox, e);
    } finally {
      if (generation === listing) listBox.setAttribute('aria-busy', 'false');
    }
  }

  async function select(key) {
    selected = key;
    syncHash();
    for (const tr of listBox.querySelectorAll('tr')) tr.classList.toggle('selected', tr.querySelector('.key-link')?.dataset.key === key);
    try {
      current = await request(kvPath(key), { signal: controller.signal });
      show();
      detail.focus({ preventScroll: false });
    } catch (e) {
      current = null;
      if (e instanceof ApiError && e.status === 404) {
        detail.replaceChildren(h('p', {}, `Key "${key}" does not exist (any more).`));
      } else {
        fail(detail, e);
      }
    }
  }

  function show() {
    const it = current;
    const out = h('pre', { id: 'value-view', class: 'value', tabindex: '0', 'aria-label': 'Value' }, render(it, mode));
    const modes = h('fieldset', { class: 'modes' }, h('legend', {}, 'Show value as'),
      ['text', 'json', 'hex'].map((m) => h('label', {},
        h('input', { type: 'radio', name: 'mode', value: m, checked: m === mode, onchange: () => { mode = m; out.textContent = render(it, mode); } }),
        m === 'json' ? 'JSON' : m[0].toUpperCase() + m.slice(1))));
    detail.replaceChildren(
      h('h2', { id: 'detail-key' }, it.key),
      h('dl', { class: 'facts' },
        ...[['Create revision', num(it.create_revision)], ['Mod revision', num(it.mod_revision), 'detail-mod'], ['Version', num(it.key_version)],
          ['Lease', it.lease ? it.lease.toString(16) : 'none'], ['Tier', it.tier], ['Size', `${valueBytes(it).length} bytes`],
          ['Expires', it.expires_at_unix_ms ? new Date(it.expires_at_unix_ms).toISOString() : 'never']]
          .map(([k, v, id]) => h('div', {}, h('dt', {}, k), h('dd', id ? { id } : {}, v)))),
      modes, out,
      h('div', { class: 'actions' },
        mayWrite(it.key) ? h('button', { type: 'button', id: 'edit-button', onclick: () => showEdit() }, 'Edit') : null,
        mayWrite(it.key) ? h('button', { type: 'button', id: 'delete-button', class: 'danger', onclick: () => askDelete() }, 'Delete') : null,
        mayWrite(it.key) ? null : h('span', { class: 'note', id: 'read-only-note' }, 'Read only: your role may not write this key.'),
        h('button', { type: 'button', class: 'secondary', onclick: () => select(it.key) }, 'Reload')));
  }

  function editor({ key, value, binary, creating }) {
    const keyInput = creating ? h('input', { id: 'new-key-name', required: true, autocomplete: 'off', spellcheck: 'false', value: prefix }) : null;
    const area = h('textarea', { id: 'value-editor', rows: 10, spellcheck: 'false', required: false }, value);
    const f = h('form', { class: 'editor', 'aria-label': creating ? 'New key' : `Edit ${key}` },
      h('h2', {}, creating ? 'New key' : `Edit ${key}`),
      creating ? [h('label', { for: 'new-key-name' }, 'Key'), keyInput] : null,
      h('label', { for: 'value-editor' }, binary ? 'Value (base64: the value is not UTF-8 text)' : 'Value'), area,
      !creating && current.lease ? h('p', { class: 'note' }, 'Saving writes the value without the lease (the key will no longer expire with it).') : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-button' }, creating ? 'Create' : 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => (current && !creating ? show() : detail.replaceChildren()) }, 'Cancel')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const k = creating ? keyInput.value : key;
      if (!k) return;
      const body = binary ? { value: area.value.trim(), encoding: 'base64' } : { value: area.value };
      const q = creating ? '' : `?prev_version=${current.mod_revision}`;
      try {
        const r = await request(kvPath(k) + q, { method: 'PUT', json: body });
        toast(`Saved ${k} at revision ${r.revision}.`, 'ok');
        await select(k);
        list();
      } catch (err) {
        toast(err.code === 'compare_failed' ? `Not saved: ${k} changed since you opened it. Reload to see the new value.` : `Not saved: ${err.message}`, 'bad');
      }
    });
    detail.replaceChildren(f);
    (keyInput || area).focus();
  }

  function showEdit() {
    const binary = current.encoding === 'base64';
    editor({ key: current.key, value: current.value, binary, creating: false });
  }

  function showCreate() {
    editor({ key: null, value: '', binary: false, creating: true });
  }

  function askDelete() {
    const key = current.key;
    confirm.replaceChildren(h('form', { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, 'Delete key?'),
      h('p', {}, 'Delete ', h('code', {}, key), '? This cannot be undone.'),
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'),
        h('button', { value: 'delete', class: 'danger', id: 'confirm-delete-button' }, 'Delete'))));
    confirm.onclose = async () => {
      if (confirm.returnValue !== 'delete') return;
      try {
        const r = await request(kvPath(key), { method: 'DELETE' });
        toast(`Deleted ${key} at revision ${r.revision}.`, 'ok');
        current = null;
        selected = null;
        syncHash();
        detail.replaceChildren(h('p', {}, `Deleted ${key}.`));
        list();
      } catch (err) {
        toast(`Not deleted: ${err.message}`, 'bad');
      }
    };
    confirm.returnValue = '';
    confirm.showModal();
  }

  list();
  if (selected) select(selected);
  return () => controller.abort();
}
