// The npm etcd3 client against a RaftKv cluster: node check.mjs <host:port,host:port,...>
// Driven by tests/RaftKv.EndToEnd.Tests/Etcd/Clients/Etcd3NpmTests.cs after `npm ci` in this folder.
// Prints "ok <check>" per passed check; the first failed assertion exits 1 with its message on stderr.
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';

const hosts = process.argv[2].split(',').map(h => 'http://' + h);
const client = new Etcd3({ hosts });
const p = 'js/' + process.pid + '/';
const rev = r => BigInt(r.header.revision);
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms).unref());
const until = async (cond, what, ms = 60000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out: ' + what);
    await new Promise(r => setTimeout(r, 50));
  }
};
const ok = name => console.log('ok ' + name);

function header(h, withRevision = true) {
  assert.notEqual(h.cluster_id, '0', 'cluster_id');
  assert.notEqual(h.member_id, '0', 'member_id');
  assert.notEqual(h.raft_term, '0', 'raft_term');
  if (withRevision) assert.ok(BigInt(h.revision) > 0n, 'revision');
}

async function kv() {
  const p1 = await client.put(p + 'kv/a').value('1').exec();
  header(p1.header);
  const p2 = await client.put(p + 'kv/b').value('2').exec();
  assert.equal(rev(p2), rev(p1) + 1n);
  const p3 = await client.put(p + 'kv/a').value('3').getPrevious();
  assert.equal(p3.value.toString(), '1');
  await client.put(p + 'other').value('x');
  assert.equal(await client.get(p + 'kv/a').string(), '3');
  assert.equal(await client.get(p + 'kv/missing').string(), null);
  const res = await client.get(p + 'kv/a').exec();
  header(res.header);
  assert.equal(res.kvs[0].create_revision, p1.header.revision);
  assert.equal(res.kvs[0].version, '2');
  assert.deepEqual(await client.getAll().prefix(p + 'kv/').strings(), { [p + 'kv/a']: '3', [p + 'kv/b']: '2' });
  assert.deepEqual(await client.getAll().prefix(p + 'kv/').keys(), [p + 'kv/a', p + 'kv/b']);
  assert.equal(await client.getAll().prefix(p + 'kv/').count(), 2);
  const desc = await client.getAll().prefix(p + 'kv/').sort('Key', 'Descend').limit(1).exec();
  assert.equal(desc.kvs.length, 1);
  assert.equal(desc.kvs[0].key.toString(), p + 'kv/b');
  assert.equal(desc.more, true);
  assert.equal(desc.count, '2');
  const old = await client.get(p + 'kv/a').revision(p1.header.revision).string();
  assert.equal(old, '1');
  const del = await client.delete().key(p + 'kv/b').getPrevious();
  assert.equal(del[0].value.toString(), '2');
  const none = await client.delete().key(p + 'kv/b').exec();
  assert.equal(none.deleted, '0');
  const all = await client.delete().prefix(p).exec();
  assert.equal(all.deleted, '2');
  assert.equal(await client.getAll().prefix(p).count(), 0);
  ok('kv');
}

async function txn() {
  const k = p + 'txn/k';
  const first = await client.if(k, 'Version', '==', 0).then(client.put(k).value('v1')).else(client.get(k)).commit();
  header(first.header);
  assert.equal(first.succeeded, true);
  const second = await client.if(k, 'Version', '==', 0).then(client.put(k).value('v1')).else(client.get(k)).commit();
  assert.equal(second.succeeded, false);
  assert.equal(second.header.revision, first.header.revision);
  assert.equal(second.responses[0].response_range.kvs[0].value.toString(), 'v1');
  const third = await client.if(k, 'Value', '==', 'v1').and(k, 'Mod', '==', first.header.revision)
    .then(client.put(k).value('v2'), client.delete().key(p + 'txn/none')).commit();
  assert.equal(third.succeeded, true);
  assert.equal(rev(third), rev(first) + 1n);
  assert.equal(await client.get(k).string(), 'v2');
  await client.delete().prefix(p);
  ok('txn');
}

async function watch() {
  const start = (await client.put(p + 'w/0').value('v0').exec()).header.revision;
  const seen = [];
  const w = await client.watch().prefix(p + 'w/').startRevision(start).create();
  w.on('put', kv => seen.push(['put', kv.key.toString(), kv.value.toString(), kv.mod_revision]));
  w.on('delete', kv => seen.push(['delete', kv.key.toString(), '', kv.mod_revision]));
  await client.put(p + 'w/1').value('v1');
  await client.delete().key(p + 'w/0');
  await until(() => seen.length >= 3, 'watcher saw 3 events');
  assert.deepEqual(seen.map(e => e.slice(0, 3)), [['put', p + 'w/0', 'v0'], ['put', p + 'w/1', 'v1'], ['delete', p + 'w/0', '']]);
  assert.deepEqual(seen.map(e => BigInt(e[3])), [BigInt(start), BigInt(start) + 1n, BigInt(start) + 2n]);
  // The client's own resume point (header revision + 1 of what it got) must not skip anything.
  const resumeAt = w.lastRevision();
  await w.cancel();
  const missed = [];
  for (let i = 2; i <= 4; i++) missed.push((await client.put(p + 'w/' + i).value('v' + i).exec()).header.revision);
  const again = [];
  const w2 = await client.watch().prefix(p + 'w/').startRevision(resumeAt).create();
  w2.on('put', kv => again.push(kv.mod_revision));
  await until(() => again.length >= 3, 'resumed watcher saw the gap');
  assert.deepEqual(again, missed);
  await w2.cancel();
  await client.delete().prefix(p);
  ok('watch');
}

async function compactedWatch() {
  const first = (await client.put(p + 'c/k').value('1').exec()).header.revision;
  const second = (await client.put(p + 'c/k').value('2').exec()).header.revision;
  await client.kv.compact({ revision: second });
  await assert.rejects(client.get(p + 'c/k').revision(first).exec(), e => /required revision has been compacted/.test(e.message));
  ok('compaction');
}

async function lease() {
  const lease = client.lease(3);
  const id = await lease.grant();
  await lease.put(p + 'lease/k').value('v');
  const kvs = (await client.get(p + 'lease/k').exec()).kvs;
  assert.equal(kvs[0].lease, id);
  let kept = 0;
  lease.on('keepaliveSucceeded', () => kept++);
  let lost = null;
  lease.on('lost', e => { lost = e; });
  const since = Date.now();
  await until(() => Date.now() - since > 9000 && kept >= 2, 'three TTLs under keep-alive', 120000);
  assert.equal(lost, null, 'lease lost: ' + lost);
  assert.equal(await client.get(p + 'lease/k').string(), 'v');
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
  assert.ok(Number(ttl.TTL) > 0);
  assert.deepEqual(ttl.keys.map(k => k.toString()), [p + 'lease/k']);
  const list = await client.leaseClient.leaseLeases({});
  assert.ok(list.leases.some(l => l.ID === id), 'lease listed');
  lease.release(); // stop keep-alives: the lease now expires on the server
  await until(async () => (await client.get(p + 'lease/k').string()) === null, 'leased key expired');
  const gone = await client.leaseClient.leaseTimeToLive({ ID: id });
  assert.equal(gone.TTL, '-1');
  const revoked = client.lease(30);
  await revoked.grant();
  await revoked.put(p + 'lease/r').value('v');
  await revoked.revoke();
  assert.equal(await client.get(p + 'lease/r').string(), null);
  ok('lease');
}

async function cluster() {
  const members = await client.cluster.memberList({});
  header(members.header, false); // etcd's Cluster service leaves the header revision 0
  assert.equal(members.members.length, 3);
  assert.ok(members.members.every(m => m.clientURLs.length > 0));
  const status = await client.maintenance.status({});
  header(status.header);
  assert.ok(members.members.some(m => m.ID === status.leader), 'leader is a member');
  assert.match(status.version, /^3\./);
  ok('cluster');
}

// Not in the default set: the driving test kills a node when this prints "ready", then writes a line to stdin.
async function watchAcrossKill() {
  const seen = [];
  const w = await client.watch().prefix(p + 'k/').create();
  w.on('put', kv => seen.push(kv.key.toString()));
  const put = async i => {
    for (;;) {
      try { await client.put(p + 'k/' + String(i).padStart(2, '0')).value('v' + i); return; } catch { await new Promise(r => setTimeout(r, 200)); }
    }
  };
  for (let i = 0; i < 5; i++) await put(i);
  await until(() => seen.length >= 5, 'watcher saw the puts before the kill');
  console.log('ready');
  await new Promise(resolve => process.stdin.once('data', resolve));
  for (let i = 5; i < 10; i++) await put(i);
  await until(() => seen.length >= 10, 'watcher saw the puts after the kill', 120000);
  await new Promise(r => setTimeout(r, 500)); // a duplicate would arrive now
  assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => p + 'k/' + String(i).padStart(2, '0')));
  await w.cancel();
  ok('watchAcrossKill');
}

const only = process.argv[3];
try {
  const checks = { kv, txn, watch, compactedWatch, lease, cluster };
  if (only === 'watchAcrossKill') checks.watchAcrossKill = watchAcrossKill;
  for (const [name, check] of Object.entries(checks)) {
    if (!only || only === name) await Promise.race([check(), deadline(180000, name)]);
  }
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  process.exitCode = 1;
} finally {
  client.close();
  process.stdin.pause();
}
