"""Python etcd clients against a RaftKv node: python3 check.py GRPC_HOST:PORT HTTP_URL CHECK

With TLS, PY_ETCD_CA names the CA file; with auth, PY_ETCD_USER and PY_ETCD_PASSWORD the gRPC client's user
(etcd3gw 2.0 has no auth: its checks then use only what etcd serves without a user).

Two real third-party clients as Debian packages them (.ci/run installs python3-etcd3 and python3-etcd3gw):
etcd3 0.12 (grpcio, etcd's gRPC API) and etcd3gw 2.0 (OpenStack's client of etcd's JSON gateway). Driven by
tests/RaftKv.EndToEnd.Tests/Etcd/Clients/PythonEtcdClientsTests.cs; prints "ok CHECK", or fails with a traceback.
"""
import os
import sys
import threading
import time
from urllib.parse import urlparse

import etcd3
import etcd3.exceptions
import grpc
import etcd3gw
from etcd3gw.client import Etcd3Client

GRPC, HTTP, CHECK = sys.argv[1], sys.argv[2], sys.argv[3]
# Keys under py/, never under "/": a lock named "" (etcd's key "/" + lease) waits for every older key under "/", and
# other clients' tests share the cluster (DotnetEtcdLockElectionTests hung on keys these checks had left under /py/).
P = 'py/%d/%s/' % (os.getpid(), CHECK)


def until(cond, what, seconds=60):
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, 'timed out: ' + what
        time.sleep(0.05)


CA = os.environ.get('PY_ETCD_CA')
USER = os.environ.get('PY_ETCD_USER')
PASSWORD = os.environ.get('PY_ETCD_PASSWORD')


def grpc_client(password=None):
    host, port = GRPC.rsplit(':', 1)
    return etcd3.client(host=host, port=int(port), timeout=30, ca_cert=CA, user=USER, password=password or PASSWORD)


def gateway_client(api_path='/v3/'):
    url = urlparse(HTTP)
    return Etcd3Client(host=url.hostname, port=url.port, protocol=url.scheme, api_path=api_path, timeout=30, ca_cert=CA)


def grpc_kv():
    c = grpc_client()
    r1 = c.put(P + 'a', '1')
    r2 = c.put(P + 'b', '2')
    assert r2.header.revision == r1.header.revision + 1, (r1.header.revision, r2.header.revision)
    prev = c.put(P + 'a', '3', prev_kv=True)
    assert prev.prev_kv.value == b'1'
    value, meta = c.get(P + 'a')
    assert value == b'3' and meta.version == 2 and meta.create_revision == r1.header.revision, meta
    assert c.get(P + 'missing') == (None, None)
    assert [m.key for _, m in c.get_prefix(P)] == [(P + 'a').encode(), (P + 'b').encode()]
    desc = [m.key for _, m in c.get_prefix(P, sort_order='descend', sort_target='key')]
    assert desc == [(P + 'b').encode(), (P + 'a').encode()], desc
    assert [m.key for _, m in c.get_range(P + 'a', P + 'b')] == [(P + 'a').encode()]
    assert c.replace(P + 'a', '3', '4') and not c.replace(P + 'a', '3', '5')
    assert c.get(P + 'a')[0] == b'4'
    assert c.delete(P + 'a') and not c.delete(P + 'a')
    assert c.delete_prefix(P).deleted == 1
    assert list(c.get_prefix(P)) == []


def grpc_txn():
    c = grpc_client()
    c.put(P + 'k', 'v')
    t = c.transactions
    ok, responses = c.transaction(
        compare=[t.value(P + 'k') == 'v', t.version(P + 'k') > 0, t.create(P + 'none') == 0],
        success=[t.put(P + 'k', 'w'), t.get(P + 'k')],
        failure=[t.delete(P + 'k')])
    assert ok, 'compares hold'
    assert [v for v, _ in responses[1]] == [b'w'], responses
    ok, _ = c.transaction(compare=[t.value(P + 'k') == 'v'], success=[], failure=[t.put(P + 'failed', 'yes')])
    assert not ok and c.get(P + 'failed')[0] == b'yes'


def grpc_watch():
    c = grpc_client()
    first = c.put(P + 'w', 'before').header.revision
    events, cancel = c.watch(P + 'w', start_revision=first)
    c.put(P + 'w', 'after')
    c.delete(P + 'w')
    got = []
    for e in events:
        got.append((type(e).__name__, e.value))
        if len(got) == 3:
            break
    cancel()
    assert got == [('PutEvent', b'before'), ('PutEvent', b'after'), ('DeleteEvent', b'')], got
    # A watch from a compacted revision is refused with the compact revision (RevisionCompactedError).
    last = c.put(P + 'x', '1').header.revision
    c.compact(last)
    try:
        events, cancel = c.watch(P + 'x', start_revision=first)
        next(iter(events))
        raise AssertionError('a watch from a compacted revision was not refused')
    except etcd3.exceptions.RevisionCompactedError as e:
        assert e.compacted_revision >= last, e.compacted_revision
    got = []
    watch_id = c.add_watch_prefix_callback(P, lambda r: got.extend(r.events))
    c.put(P + 'cb', '1')
    until(lambda: len(got) >= 1, 'the callback watch event')
    c.cancel_watch(watch_id)


def grpc_lease():
    c = grpc_client()
    lease = c.lease(30)
    assert lease.granted_ttl == 30 and 0 < lease.remaining_ttl <= 30
    c.put(P + 'l', 'x', lease=lease)
    assert lease.keys == [(P + 'l').encode()]
    assert c.get(P + 'l')[1].lease_id == lease.id
    assert lease.refresh()[0].TTL == 30
    lease.revoke()
    assert c.get(P + 'l') == (None, None)
    short = c.lease(1)
    c.put(P + 's', 'x', lease=short)
    until(lambda: c.get(P + 's') == (None, None), 'the unkept lease expires')


def grpc_lock():
    c = grpc_client()
    lock = c.lock(P + 'lock', ttl=10)
    assert lock.acquire(timeout=10) and lock.is_acquired()
    # Not tried while held: Debian's etcd3 0.12 fails its own retry there (tenacity's newer wait() signature).
    assert c.get('/locks/' + P + 'lock')[0] is not None, 'the lock key is there while held'
    assert lock.release() and not lock.is_acquired()
    other = c.lock(P + 'lock', ttl=10)
    assert other.acquire(timeout=10)
    other.release()


def grpc_cluster():
    c = grpc_client()
    members = list(c.members)
    assert len(members) == 3, members
    assert all(m.id != 0 and m.peer_urls and m.client_urls for m in members), members
    status = c.status()
    assert status.leader is not None and status.leader.id in [m.id for m in members]
    assert status.raft_index > 0 and status.raft_term > 0 and status.version
    assert list(c.list_alarms()) == []


def grpc_auth():
    # The user may write its own prefix only: etcd's PERMISSION_DENIED outside it, and a wrong password is refused.
    c = grpc_client()
    c.put(P + 'mine', 'x')
    try:
        c.put('elsewhere/' + P, 'x')
        raise AssertionError('a put outside the permission was accepted')
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED and 'permission denied' in e.details(), e
    try:
        grpc_client(password='wrong').get(P + 'mine')
        raise AssertionError('a wrong password was accepted')
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and 'authentication failed' in e.details(), e


def gw_kv(client=None):
    c = client or gateway_client()
    assert c.put(P + 'a', '1')
    assert c.get(P + 'a') == [b'1']
    value, meta = c.get(P + 'a', metadata=True)[0]
    assert value == b'1' and meta['version'] == '1', meta
    assert not c.create(P + 'a', 'x') and c.create(P + 'c', 'x')
    assert [m['key'] for _, m in c.get_prefix(P)] == [(P + 'a').encode(), (P + 'c').encode()]
    assert c.replace(P + 'a', '1', '2') and not c.replace(P + 'a', '1', '3')
    assert c.delete(P + 'c') and not c.delete(P + 'c')
    assert c.delete_prefix(P)
    assert c.get(P + 'a') == []


def gw_lease():
    c = gateway_client()
    lease = c.lease(ttl=30)
    assert lease.id > 0  # a random 63-bit number, which etcd3gw sends back as a JSON number
    assert 0 < lease.ttl() <= 30
    assert lease.refresh() == 30
    assert c.put(P + 'l', 'x', lease=lease)
    assert lease.keys() == [(P + 'l').encode()]
    assert lease.revoke()
    assert c.get(P + 'l') == []
    assert lease.ttl() == -1


def gw_watch():
    c = gateway_client()
    events, cancel = c.watch(P + 'w')
    got = []

    def read():
        for e in events:
            got.append(e)
            if len(got) == 2:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1)  # the gateway client opens its stream in the background; etcd3gw offers no "created" signal
    c.put(P + 'w', '1')
    c.delete(P + 'w')
    reader.join(30)
    cancel()
    assert [e.get('type', 'PUT') for e in got] == ['PUT', 'DELETE'], got
    assert got[0]['kv']['value'] == b'1'
    try:
        c.watch_once(P + 'none', timeout=1)
        raise AssertionError('watch_once returned without an event')
    except etcd3gw.exceptions.WatchTimedOut:
        pass


def gw_lock():
    c = gateway_client()
    lock = c.lock(ttl=10)
    assert lock.acquire() and lock.is_acquired()
    assert lock.release()


def gw_cluster():
    c = gateway_client()
    members = c.members()
    assert len(members) == 3 and all(m['clientURLs'] for m in members), members
    status = c.status()
    assert status['leader'] in [m['ID'] for m in members], status


def gw_old_path():
    # etcd3gw's own default path is etcd 3.2's /v3alpha/ (etcd3gw.client() takes no api_path).
    url = urlparse(HTTP)
    gw_kv(etcd3gw.client(host=url.hostname, port=url.port, protocol=url.scheme, timeout=30))


try:
    globals()[CHECK.replace('-', '_')]()
finally:
    grpc_client().delete_prefix(P)  # leave nothing behind in the shared cluster
print('ok ' + CHECK)
