// Cluster page: every member's role, term, indexes, lag and alarms (GET /cluster/overview), live.
import { request } from '../api.js';
import { h, num, facts, table, poll, pageHeader } from '../format.js';

export const title = 'Cluster';

function roleCell(m) {
  const role = m.status ? m.status.role : 'unreachable';
  return h('td', { 'data-role': role }, h('span', { class: `role role-${role}` }, role));
}

function memberRow(m) {
  const st = m.status;
  return h('tr', { id: `member-${m.id}`, class: m.local ? 'local' : null },
    h('th', { scope: 'row' }, String(m.id), m.local ? h('span', { class: 'tag' }, 'this node') : null),
    roleCell(m),
    h('td', { class: 'num' }, st ? num(st.term) : '—'),
    h('td', { class: 'num' }, st ? num(st.commit_index) : '—'),
    h('td', { class: 'num' }, st ? num(st.applied_index) : '—'),
    h('td', { class: 'num' }, st ? num(st.durable_index) : '—'),
    h('td', { class: 'num' }, m.leader ? 'leader' : m.lag === null || m.lag === undefined ? '—' : num(m.lag)),
    h('td', {}, st ? (st.alarms > 0 ? h('span', { class: 'alarm' }, `${st.alarms} alarm(s)`) : 'none') : '—'),
    h('td', {}, m.http ? h('a', { href: `${location.protocol}//${m.http}/ui/` }, m.http) : '—'),
    h('td', {}, m.reachable ? (m.available ? 'reachable' : 'reachable (not seen by Raft)') : h('span', { class: 'bad' }, m.error || 'unreachable')));
}

export function mount(main) {
  const head = pageHeader('Cluster', 'Members as each one reports itself; lag is measured by the leader (entries behind its commit index). Refreshes every 2 seconds.');
  const summary = h('section', { 'aria-label': 'Summary' });
  const members = h('section', { 'aria-label': 'Members' });
  const alarms = h('section', { 'aria-label': 'Alarms' });
  main.append(head.header, summary, members, alarms);
  return poll(async (signal) => {
    try {
      const o = await request('/cluster/overview', { signal });
      const leader = o.members.find((m) => m.leader);
      summary.replaceChildren(facts([
        ['Leader', leader ? `node ${leader.id}` : 'none (election in progress?)', 'leader-id'],
        ['Term', num(o.term), 'term'],
        ['Revision', num(o.revision), 'revision'],
        ['Members', `${o.members.filter((m) => m.reachable).length} of ${o.members.length} reachable`],
        ['Served by', `node ${o.node_id} (${o.role})`],
      ], { class: 'facts cards' }));
      summary.querySelector('#leader-id').dataset.leader = leader ? String(leader.id) : '';
      members.replaceChildren(table('Members',
        ['Node', 'Role', 'Term', 'Commit index', 'Applied index', 'Durable index', 'Lag', 'Alarms', 'HTTP', 'State'],
        o.members.map(memberRow), { id: 'members' }));
      alarms.replaceChildren(h('h2', {}, 'Alarms'), o.alarms.length === 0
        ? h('p', { id: 'alarms' }, 'No active alarm.')
        : h('ul', { id: 'alarms', class: 'alarm-list' }, o.alarms.map((a) => h('li', {}, h('strong', {}, a.alarm), ` on member ${a.member_id}: ${a.reason || ''}`))));
      head.ok();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      head.fail(e);
    }
  }, 2000);
}
