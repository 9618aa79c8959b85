package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/leasing"
	"go.etcd.io/etcd/clientv3/mirror"
	"go.etcd.io/etcd/clientv3/namespace"
	"go.etcd.io/etcd/clientv3/ordering"
)

// checkLeasing: clientv3/leasing's KV, which caches a key under a lease it takes with a txn and gives the cache up
// when another client writes (a revoke protocol of txns, leases and watches on the server).
func checkLeasing(ctx context.Context, e *env) error {
	other, err := e.newClient(e.user, e.password)
	if err != nil {
		return err
	}
	defer other.Close()
	lkv1, close1, err := leasing.NewKV(e.cli, e.pfx+"leases/")
	if err != nil {
		return err
	}
	defer close1()
	lkv2, close2, err := leasing.NewKV(other, e.pfx+"leases/")
	if err != nil {
		return err
	}
	defer close2()
	key := e.pfx + "cached"
	if _, err := e.cli.Put(ctx, key, "v1"); err != nil {
		return err
	}
	for i, want := range []string{"v1", "v1"} { // the second get is served from lkv1's cache
		r, err := lkv1.Get(ctx, key)
		if err != nil {
			return err
		}
		if err := expect(len(r.Kvs) == 1 && string(r.Kvs[0].Value) == want, "leasing get %d: %v", i, r.Kvs); err != nil {
			return err
		}
	}
	held, err := e.cli.Get(ctx, e.pfx+"leases/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if err := expect(held.Count == 1, "leasing keys under the prefix: %d", held.Count); err != nil {
		return err
	}
	// A write through the other leasing client revokes lkv1's lease on the key; lkv1 then reads the new value.
	if _, err := lkv2.Put(ctx, key, "v2"); err != nil {
		return fmt.Errorf("put through the other leasing client: %v", err)
	}
	if err := eventually(ctx, 30*time.Second, "the first leasing client sees the other's write", func() (bool, error) {
		r, err := lkv1.Get(ctx, key)
		return err == nil && len(r.Kvs) == 1 && string(r.Kvs[0].Value) == "v2", err
	}); err != nil {
		return err
	}
	txn, err := lkv1.Txn(ctx).If(clientv3.Compare(clientv3.Value(key), "=", "v2")).Then(clientv3.OpPut(key, "v3")).Commit()
	if err != nil {
		return err
	}
	if err := expect(txn.Succeeded, "leasing txn did not succeed"); err != nil {
		return err
	}
	r, err := lkv2.Get(ctx, key)
	if err != nil {
		return err
	}
	if _, err := lkv1.Delete(ctx, key); err != nil {
		return err
	}
	gone, err := e.cli.Get(ctx, key)
	if err != nil {
		return err
	}
	return first(
		expect(len(r.Kvs) == 1 && string(r.Kvs[0].Value) == "v3", "the other client after the txn: %v", r.Kvs),
		expect(len(gone.Kvs) == 0, "deleted through leasing, still there"),
	)
}

// checkNamespace: clientv3/namespace's KV, Watcher and Lease prefix every key.
func checkNamespace(ctx context.Context, e *env) error {
	ns := e.pfx + "ns/"
	kv, w, l := namespace.NewKV(e.cli.KV, ns), namespace.NewWatcher(e.cli.Watcher, ns), namespace.NewLease(e.cli.Lease, ns)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := w.Watch(wctx, "k", clientv3.WithPrefix())
	g, err := l.Grant(ctx, 60)
	if err != nil {
		return err
	}
	defer l.Revoke(context.Background(), g.ID)
	if _, err := kv.Put(ctx, "k1", "v", clientv3.WithLease(g.ID)); err != nil {
		return err
	}
	raw, err := e.cli.Get(ctx, ns+"k1")
	if err != nil {
		return err
	}
	got, err := kv.Get(ctx, "k", clientv3.WithPrefix())
	if err != nil {
		return err
	}
	evs, err := events(ch, 1)
	if err != nil {
		return err
	}
	txn, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.Value("k1"), "=", "v")).Then(clientv3.OpGet("k1")).Commit()
	if err != nil {
		return err
	}
	return first(
		expect(len(raw.Kvs) == 1 && raw.Kvs[0].Lease == int64(g.ID), "the namespaced key: %v", raw.Kvs),
		expect(len(got.Kvs) == 1 && string(got.Kvs[0].Key) == "k1", "namespaced get: %v", got.Kvs),
		expect(string(evs[0].Kv.Key) == "k1", "namespaced watch: %v", evs[0].Kv),
		expect(txn.Succeeded && string(txn.Responses[0].GetResponseRange().Kvs[0].Key) == "k1", "namespaced txn: %+v", txn),
	)
}

// checkOrdering: clientv3/ordering's KV refuses a revision older than one seen; reads and writes across every
// endpoint never go back.
func checkOrdering(ctx context.Context, e *env) error {
	kv := ordering.NewKV(e.cli.KV, ordering.NewOrderViolationSwitchEndpointClosure(e.cli))
	for i := 0; i < 60; i++ {
		if _, err := kv.Txn(ctx).Then(clientv3.OpPut(fmt.Sprintf("%s%d", e.pfx, i%7), "x")).Commit(); err != nil {
			return err
		}
		if _, err := kv.Get(ctx, e.pfx, clientv3.WithPrefix(), clientv3.WithSerializable()); err != nil {
			return fmt.Errorf("serializable get %d: %v", i, err)
		}
		if _, err := kv.Get(ctx, e.pfx, clientv3.WithPrefix()); err != nil {
			return fmt.Errorf("get %d: %v", i, err)
		}
	}
	return nil
}

// checkMirror: clientv3/mirror's Syncer copies the prefix at one revision, then streams what follows.
func checkMirror(ctx context.Context, e *env) error {
	for i := 0; i < 25; i++ {
		if _, err := e.cli.Put(ctx, fmt.Sprintf("%sm/%02d", e.pfx, i), "v"); err != nil {
			return err
		}
	}
	at, err := e.cli.Get(ctx, "go-mirror-revision")
	if err != nil {
		return err
	}
	s := mirror.NewSyncer(e.cli, e.pfx+"m/", at.Header.Revision)
	base, errs := s.SyncBase(ctx)
	n := 0
	for r := range base {
		n += len(r.Kvs)
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("sync base: %v", err)
	}
	if err := expect(n == 25, "sync base copied %d keys", n); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := s.SyncUpdates(wctx)
	if _, err := e.cli.Put(ctx, e.pfx+"m/new", "v"); err != nil {
		return err
	}
	evs, err := events(updates, 1)
	if err != nil {
		return fmt.Errorf("sync updates: %v", err)
	}
	return expect(string(evs[0].Kv.Key) == e.pfx+"m/new", "sync update: %v", evs[0].Kv)
}
