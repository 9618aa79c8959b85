// Small formatting and DOM helpers shared by the pages.

/** Creates an element: h('td', {class: 'num'}, 'text', child, …). Attributes set with setAttribute
 *  (never 'style': the page's CSP allows no inline styles). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const nf = new Intl.NumberFormat('en');

export function num(n) {
  return n === null || n === undefined ? '—' : nf.format(n);
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
}

export function percent(ratio) {
  return ratio === null || ratio === undefined || Number.isNaN(ratio) ? '—' : (ratio * 100).toFixed(1) + ' %';
}

export function ms(v) {
  if (v === null || v === undefined) return '—';
  return v < 1 ? v.toFixed(3) + ' ms' : v < 100 ? v.toFixed(1) + ' ms' : nf.format(Math.round(v)) + ' ms';
}

export function clock(date) {
  return date.toLocaleTimeString('en-GB', { hour12: false });
}

/** A definition list of [label, value] pairs. */
export function facts(pairs, attrs) {
  return h('dl', { class: 'facts', ...attrs }, pairs.map(([k, v, id]) => h('div', {}, h('dt', {}, k), h('dd', id ? { id } : {}, v))));
}

/** A table inside a horizontally scrolling region (keyboard focusable, labelled by its caption). */
export function table(caption, head, rows, attrs) {
  const t = h('table', attrs || {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption }, t);
}

/** Text or base64 value of a /kv item as bytes. */
export function valueBytes(item) {
  if (item.encoding === 'base64') {
    const bin = atob(item.value);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  return new TextEncoder().encode(item.value);
}

/** A classic hex dump: offset, 16 bytes in hex, printable ASCII. */
export function hexDump(data, max = 4096) {
  const lines = [];
  const n = Math.min(data.length, max);
  for (let i = 0; i < n; i += 16) {
    const row = data.subarray(i, Math.min(i + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(i.toString(16).padStart(8, '0') + '  ' + hex.padEnd(47) + '  ' + ascii);
  }
  if (data.length > max) lines.push(`… ${data.length - max} more bytes`);
  return lines.join('\n');
}

/** Shows a short message to the user (also announced to screen readers: the toast is a status region). */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

/** Runs task() now and again every `ms` after each run finishes, while the page is visible;
 *  returns a stop function. task gets an AbortSignal that stop() aborts. */
export function poll(task, ms) {
  const controller = new AbortController();
  let timer = null;
  const run = async () => {
    timer = null;
    if (controller.signal.aborted) return;
    if (!document.hidden) {
      try {
        await task(controller.signal);
      } catch (e) {
        if (e.name !== 'AbortError') console.warn(e);
      }
    }
    if (!controller.signal.aborted) timer = setTimeout(run, ms);
  };
  run();
  return () => {
    controller.abort();
    if (timer) clearTimeout(timer);
  };
}

/** The message shown for a failed call: a 403 says plainly that the signed-in user's role lacks the permission. */
export function describeError(e) {
  if (e && e.status === 403) return 'Your role may not read this: the signed-in user lacks the permission (403 permission denied). Sign in as a user whose role grants it.';
  return e.message;
}

/** A page heading plus the "updated at" line pages refresh. */
export function pageHeader(title, intro) {
  const updated = h('p', { class: 'updated', 'aria-live': 'off' }, 'loading…');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const header = h('div', { class: 'page-head' }, h('h1', {}, title), intro ? h('p', { class: 'intro' }, intro) : null, updated, error);
  return {
    header,
    ok() {
      updated.textContent = 'updated ' + clock(new Date());
      error.hidden = true;
    },
    fail(e) {
      error.textContent = describeError(e);
      error.hidden = false;
    },
  };
}
