// Maintenance page (root only; hidden from other users): compaction of this node, an archiver pass to S3,
// and a backup now. Each runs as its POST (/admin/compact, /admin/migrate, /admin/backup) while the page
// polls the operation's progress (GET /admin/{compact,migrate,backup}/progress) into a progress bar with
// numbers, then shows the POST's result or error. "Save snapshot" downloads this node's backup snapshot
// (GET /admin/snapshot) with the bytes received of the total shown while it streams, then saves it as a file.
import { request, download } from '../api.js';
import { h, num, bytes, pageHeader, describeError } from '../format.js';

export const title = 'Maintenance';

const operations = [
  {
    id: 'compaction', label: 'Compact', heading: 'Compaction (this node)', run: '/admin/compact', progress: '/admin/compact/progress',
    about: 'Merges every level of this node\'s LSM tree into the bottom one, dropping overwritten, deleted and expired data, then gives the space back.',
    result: (r) => `Compacted: ${num(r.tables_before)} SSTables before, ${num(r.tables_after)} after.`,
  },
  {
    id: 'migration', label: 'Archive to S3', heading: 'Archive cold tables (this node)', run: '/admin/migrate', progress: '/admin/migrate/progress',
    about: 'Runs the archiver now: uploads the SSTables the tiering policy selects (older than DISK_MIGRATION_AGE_HOURS, or the oldest beyond DISK_MAX_SIZE_GB) to object storage.',
    result: (r) => `Archived ${num(r.tables_migrated)} table(s), ${bytes(r.bytes_uploaded)} uploaded.`,
  },
  {
    id: 'backup', label: 'Back up now', heading: 'Backup (on the leader)', run: '/admin/backup', progress: '/admin/backup/progress',
    about: 'Takes a backup of the cluster into the backup bucket now, uploading only the tables earlier backups lack.',
    result: (r) => `Backup ${r.id} taken: revision ${num(r.revision)}, ${num(r.files)} files, ${bytes(r.size_bytes)} (${bytes(r.uploaded_bytes)} uploaded).`,
  },
];

function describe(p) {
  if (!p || p.state === 'idle') return 'Not run since this node started.';
  if (p.state === 'unavailable') return `Unavailable: ${p.error}`;
  const count = p.total > 0 || p.state !== 'running' ? `${num(p.done)} of ${num(p.total)} ${p.unit}` : `${num(p.done)} ${p.unit}`;
  const volume = p.bytes_total > 0 ? ` · ${bytes(p.bytes_done)} of ${bytes(p.bytes_total)}` : '';
  const reused = p.operation === 'backup' && p.reused > 0 ? ` · ${num(p.reused)} table(s) already stored` : '';
  const state = p.state === 'running' ? 'Running' : p.state === 'done' ? 'Last run done' : 'Last run failed';
  return `${state}: ${count}${volume}${reused}${p.error ? ` · ${p.error}` : ''}`;
}

function operationCard(op, head, signal) {
  const bar = h('progress', { id: `${op.id}-bar`, max: 1, value: 0, 'aria-labelledby': `${op.id}-h`, hidden: true });
  const status = h('p', { id: `${op.id}-status`, class: 'op-status', 'aria-live': 'polite' }, '');
  const result = h('p', { id: `${op.id}-result`, class: 'op-result', role: 'status' });
  const button = h('button', { type: 'button', id: `${op.id}-button` }, op.label);
  let running = false;

  function show(p) {
    status.textContent = describe(p);
    if (p && p.state === 'running') {
      bar.hidden = false;
      if (p.total > 0) {
        bar.max = p.bytes_total > 0 ? p.bytes_total : p.total;
        bar.value = p.bytes_total > 0 ? p.bytes_done : p.done;
      } else {
        bar.removeAttribute('value'); // not known yet: an indeterminate bar
      }
    }
  }

  // The state last read: while it is 'running' the page keeps polling, whoever started the run (this page's
  // POST, or the node itself: a scheduled backup, an archiver pass under disk pressure), so the status line
  // never stays on a run that has ended.
  let last = null;
  let polling = null; // the poll loop, while this page's POST is in flight or the last state read is running
  let sent = 0; // progress requests sent, and the number of the newest one shown: an older answer
  let shown = 0; // arriving late never replaces a newer one

  async function refresh() {
    const n = ++sent;
    try {
      const p = await request(op.progress, { signal });
      if (n < shown) return last;
      shown = n;
      last = p;
      show(p);
      if (!running) button.disabled = p.state === 'unavailable'; // not configured on this cluster (no S3, no backups)
      head.ok();
      return p;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (e.status === 403) button.disabled = true; // reached by URL without the root role: the server refuses
      head.fail(e);
      return null;
    }
  }

  const following = () => !signal.aborted && (running || last?.state === 'running');

  /** Starts the poll loop unless it runs or there is nothing to follow. The loop's first step is a wait, so it
   * always ends after `polling` is set (ending synchronously, it would leave a settled loop behind for good). */
  function poll() {
    if (polling || !following()) return;
    polling = (async () => {
      try {
        do {
          await new Promise((r) => setTimeout(r, 500));
          if (!signal.aborted) await refresh().catch(() => null);
        } while (following());
      } finally {
        polling = null;
      }
    })();
  }

  /** Reads the progress once, then follows it while it says running. */
  async function load() {
    const p = await refresh();
    poll();
    return p;
  }

  button.addEventListener('click', async () => {
    if (running) return;
    running = true;
    button.disabled = true;
    result.textContent = '';
    result.className = 'op-result';
    bar.hidden = false;
    bar.removeAttribute('value');
    refresh().catch(() => null);
    poll();
    try {
      const r = await request(op.run, { method: 'POST', signal });
      running = false;
      await load().catch(() => null); // the finished counters (then, if another run has started since, that run until it ends)
      bar.max = 1;
      bar.value = 1;
      result.textContent = op.result(r);
      result.classList.add('ok');
    } catch (e) {
      running = false;
      if (e.name === 'AbortError') return;
      load().catch(() => null);
      bar.hidden = true;
      result.textContent = `Failed: ${describeError(e)}`;
      result.classList.add('bad');
    } finally {
      running = false;
      button.disabled = false;
    }
  });

  const card = h('section', { class: 'card op', id: `op-${op.id}`, 'aria-labelledby': `${op.id}-h` },
    h('h2', { id: `${op.id}-h` }, op.heading), h('p', { class: 'about' }, op.about), button, bar, status, result);
  return { card, load };
}

function snapshotCard(signal) {
  const bar = h('progress', { id: 'snapshot-bar', max: 1, value: 0, 'aria-labelledby': 'snapshot-h', hidden: true });
  const status = h('p', { id: 'snapshot-status', class: 'op-status', 'aria-live': 'polite' }, '');
  const result = h('p', { id: 'snapshot-result', class: 'op-result', role: 'status' });
  const button = h('button', { type: 'button', id: 'snapshot-button' }, 'Save snapshot');
  let lastShown = 0;
  function show(received, total, force) {
    const now = performance.now();
    if (!force && now - lastShown < 100) return; // a status line ten times a second is plenty
    lastShown = now;
    if (total > 0) {
      bar.max = total;
      bar.value = received;
    }
    status.textContent = total > 0 ? `Received ${bytes(received)} of ${bytes(total)} (${Math.floor((received * 100) / total)} %)` : `Received ${bytes(received)}`;
  }
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.textContent = '';
    result.className = 'op-result';
    bar.hidden = false;
    bar.removeAttribute('value');
    status.textContent = 'Taking the snapshot…';
    try {
      const file = await download('/admin/snapshot', (received, total) => show(received, total, received === total), signal);
      show(file.total, file.total, true);
      const url = URL.createObjectURL(file.blob);
      const link = h('a', { href: url, download: file.filename || 'raftkv.snapshot', hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      result.textContent = `Saved ${file.filename || 'the snapshot'} (${bytes(file.total)}). Check it with kvctl snapshot status; restore it with raftkv restore.`;
      result.classList.add('ok');
    } catch (e) {
      if (e.name === 'AbortError') return;
      bar.hidden = true;
      result.textContent = `Failed: ${describeError(e)}`;
      result.classList.add('bad');
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'card op', id: 'op-snapshot', 'aria-labelledby': 'snapshot-h' },
    h('h2', { id: 'snapshot-h' }, 'Snapshot (this node)'),
    h('p', { class: 'about' }, 'Downloads a consistent backup snapshot of this node (the file etcdctl snapshot save and kvctl snapshot save write), archived tables included.'),
    button, bar, status, result);
}

export function mount(main) {
  const head = pageHeader('Maintenance', 'Long operations, with their progress. Only a user with the root role may run them (and see this page).');
  const controller = new AbortController();
  const cards = operations.map((op) => operationCard(op, head, controller.signal));
  main.append(head.header, h('div', { class: 'cards-grid' }, cards.map((c) => c.card), snapshotCard(controller.signal)));
  Promise.all(cards.map((c) => c.load())).catch(() => null);
  return () => controller.abort();
}
