// Storage page: memtable, LSM levels, tiers (memory, disk, S3), archiver, cache (GET /stats).
import { request } from '../api.js';
import { h, num, bytes, percent, facts, table, poll, pageHeader } from '../format.js';

export const title = 'Storage';

function card(heading, pairs, id) {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, heading), facts(pairs, { id }));
}

export function mount(main) {
  const head = pageHeader('Storage', 'This node\'s tiered store: the memtable, the LSM levels on disk, SSTables archived to S3, and the block cache. Refreshes every 3 seconds.');
  const cards = h('div', { class: 'cards-grid' });
  const levels = h('section', { 'aria-label': 'LSM levels' });
  main.append(head.header, cards, levels);
  return poll(async (signal) => {
    try {
      const s = await request('/stats', { signal });
      const lookups = s.cache_hits + s.cache_misses;
      cards.replaceChildren(
        card('Memory tier (memtable)', [
          ['Entries', num(s.memory_entries)],
          ['Size', bytes(s.memory_size_bytes)],
          ['Frozen memtables awaiting flush', num(s.immutable_memtables)],
          ['Reads answered from memory', percent(s.memory_hit_rate)],
        ], 'st-memory'),
        card('Disk tier (SSTables)', [
          ['Entries', num(s.disk_entries)],
          ['Size', bytes(s.disk_size_bytes)],
          ['Disk usage', s.disk_usage_percent + ' %'],
          ['SSTables', num((s.sstables_per_level || []).reduce((a, b) => a + b, 0))],
        ], 'st-disk'),
        card('Object tier (S3)', [
          ['Entries', num(s.object_entries)],
          ['Size', bytes(s.object_size_bytes)],
          ['Local metadata of archived tables', bytes(s.archived_metadata_bytes)],
        ], 'st-object'),
        card('Archiver', [
          ['Tables migrated', num(s.migrations_completed)],
          ['Bytes uploaded', bytes(s.bytes_uploaded)],
          ['Errors', s.archiver_errors > 0 ? h('span', { class: 'bad' }, num(s.archiver_errors)) : '0'],
        ], 'st-archiver'),
        card('Block cache', [
          ['Hit rate', lookups === 0 ? '—' : percent(s.cache_hit_rate ?? s.cache_hits / lookups), 'cache-hit-rate'],
          ['Hits / misses', `${num(s.cache_hits)} / ${num(s.cache_misses)}`, 'cache-hits'],
          ['Size / capacity', `${bytes(s.cache_bytes)} / ${bytes(s.cache_capacity_bytes)}`, 'cache-size'],
          ['Blocks cached', num(s.cache_blocks), 'cache-blocks'],
          ['Evictions', num(s.cache_evictions), 'cache-evictions'],
          ['Promotions', num(s.cache_promotions), 'cache-promotions'],
          ['S3 reads (requests / bytes)', `${num(s.object_read_requests)} / ${bytes(s.object_read_bytes)}`, 'object-reads'],
        ], 'st-cache'),
        card('Maintenance', [
          ['Flushes', num(s.flushes)],
          ['Compactions', num(s.compactions)],
          ['Work pending', s.compaction_pending ? 'yes' : 'no'],
          ['Snapshots taken / installed', `${num(s.snapshots_taken)} / ${num(s.snapshots_installed)}`],
          ['Durable / applied index', `${num(s.durable_index)} / ${num(s.applied_index)}`],
        ], 'st-maintenance'));
      const counts = s.sstables_per_level || [];
      const sizes = s.bytes_per_level || [];
      const biggest = Math.max(1, ...sizes);
      levels.replaceChildren(table('SSTables per level', ['Level', 'SSTables', 'Size', 'Share'],
        counts.map((c, i) => {
          const bar = h('meter', { min: 0, max: biggest, value: sizes[i] || 0, 'aria-label': `level ${i} size` });
          return h('tr', {}, h('th', { scope: 'row' }, `L${i}`), h('td', { class: 'num' }, num(c)), h('td', { class: 'num' }, bytes(sizes[i] || 0)), h('td', {}, bar));
        }), { id: 'levels' }));
      head.ok();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      head.fail(e);
    }
  }, 3000);
}
