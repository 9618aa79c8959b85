// Watch page: the changes to a prefix as they are committed (GET /watch, Server-Sent Events read through
// the fetch wrapper so an Authorization header can be sent).
import { stream } from '../api.js';
import { h, clock, describeError } from '../format.js';

export const title = 'Watch';

const MAX_EVENTS = 500;

export function mount(main, params) {
  let controller = null;
  const prefixInput = h('input', { id: 'watch-prefix', type: 'search', value: params.get('prefix') || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'empty = every key' });
  const startButton = h('button', { type: 'submit', id: 'watch-start' }, 'Start');
  const stopButton = h('button', { type: 'button', id: 'watch-stop', class: 'secondary', disabled: true, onclick: () => stop('stopped') }, 'Stop');
  const state = h('p', { id: 'watch-state', role: 'status' }, 'Not watching.');
  const log = h('ol', { id: 'watch-events', class: 'events', role: 'log', 'aria-label': 'Changes, newest first', reversed: true });
  const form = h('form', { class: 'controls', 'aria-label': 'Watch a prefix' }, h('label', { for: 'watch-prefix' }, 'Key prefix'), prefixInput, startButton, stopButton);
  form.addEventListener('submit', (e) => { e.preventDefault(); start(); });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Watch'),
    h('p', { class: 'intro' }, 'Streams every put and delete under a prefix as it is applied on this node, newest first.')), form, state, log);

  function stop(why) {
    if (controller) controller.abort();
    controller = null;
    startButton.disabled = false;
    stopButton.disabled = true;
    state.textContent = why === 'stopped' ? 'Stopped.' : why;
  }

  function add(type, data) {
    const value = type === 'put' ? (data.encoding === 'base64' ? '(binary)' : data.value) : '';
    log.prepend(h('li', { class: `event ${type}` },
      h('span', { class: `op op-${type}` }, type.toUpperCase()), ' ',
      h('code', { class: 'key' }, data.key), ' ',
      h('span', { class: 'rev' }, `rev ${data.mod_revision}`), ' ',
      h('span', { class: 'val' }, value.length > 80 ? value.slice(0, 80) + '…' : value), ' ',
      h('time', {}, clock(new Date()))));
    while (log.children.length > MAX_EVENTS) log.lastChild.remove();
  }

  async function start() {
    stop('Starting…');
    const mine = new AbortController();
    controller = mine;
    startButton.disabled = true;
    stopButton.disabled = false;
    const prefix = prefixInput.value;
    history.replaceState(null, '', '#/watch' + (prefix ? '?prefix=' + encodeURIComponent(prefix) : ''));
    try {
      await stream('/watch?prefix=' + encodeURIComponent(prefix), (type, data) => {
        if (type === 'ready') {
          state.textContent = `Watching ${prefix ? `"${prefix}"` : 'every key'} from revision ${data.revision + 1}.`;
          state.dataset.ready = 'true';
        } else if (type === 'put' || type === 'delete') {
          add(type, data);
        } else if (type === 'error') {
          state.textContent = `The watch ended: ${data.error}`;
        }
      }, mine.signal);
      if (controller === mine) stop('The node closed the stream (restarted?). Start again to resume.');
    } catch (e) {
      if (controller === mine) stop(`The watch failed: ${describeError(e)}`);
    }
  }

  if (params.get('prefix') !== null) start();
  return () => { if (controller) controller.abort(); };
}
