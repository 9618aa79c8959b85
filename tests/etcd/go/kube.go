package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// checkKube drives the server the way the Kubernetes API server's storage layer (k8s.io/apiserver/pkg/storage/etcd3)
// does: creates as txns on mod revision 0, a paginated list at one revision (limit, continue key, the first page's
// revision) while objects change, optimistic updates (txn on mod revision, else re-read) from four writers, a watch
// from the list's revision with prev kv and progress notifications, deletes with a precondition, events on one shared
// lease, counts, and the compactor's compact_rev_key txn and compaction, after which a list or watch at an older
// revision fails with "required revision has been compacted" (the API server's cue to relist).
func checkKube(ctx context.Context, e *env) error {
	cli, p := e.cli, e.pfx+"registry/"
	const objects, pageSize = 1200, 500
	pod := func(i int) string { return fmt.Sprintf("%spods/default/pod-%04d", p, i) }
	for i := 0; i < objects; i++ {
		r, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(pod(i)), "=", 0)).Then(clientv3.OpPut(pod(i), "v0")).Commit()
		if err != nil {
			return err
		}
		if !r.Succeeded {
			return fmt.Errorf("create of %s found it existing", pod(i))
		}
	}
	again, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(pod(0)), "=", 0)).Then(clientv3.OpPut(pod(0), "dup")).Commit()
	if err != nil {
		return err
	}
	if again.Succeeded {
		return fmt.Errorf("a second create of %s succeeded", pod(0))
	}

	// Paginated list at the first page's revision while a writer, started after that page, changes objects.
	wctx, stopWriter := context.WithCancel(ctx)
	defer stopWriter()
	var writer sync.WaitGroup
	startWriter := func() {
		writer.Add(1)
		go func() {
			defer writer.Done()
			for i := 0; wctx.Err() == nil; i = (i + 7) % objects {
				cli.Put(wctx, pod(i), "changed")
			}
		}()
	}
	prefixEnd := clientv3.GetPrefixRangeEnd(p + "pods/")
	seen, rev, key := map[string]bool{}, int64(0), p+"pods/"
	for pages := 0; ; pages++ {
		opts := []clientv3.OpOption{clientv3.WithRange(prefixEnd), clientv3.WithLimit(pageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		r, err := cli.Get(ctx, key, opts...)
		if err != nil {
			stopWriter()
			return fmt.Errorf("list page %d: %v", pages, err)
		}
		if rev == 0 {
			rev = r.Header.Revision
			startWriter()
		}
		for _, kv := range r.Kvs {
			if seen[string(kv.Key)] || string(kv.Value) != "v0" {
				stopWriter()
				return fmt.Errorf("page %d at revision %d: %s = %q (seen before: %v)", pages, rev, kv.Key, kv.Value, seen[string(kv.Key)])
			}
			seen[string(kv.Key)] = true
		}
		if !r.More {
			break
		}
		key = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
	}
	stopWriter()
	writer.Wait()
	if len(seen) != objects {
		return fmt.Errorf("the paginated list at revision %d saw %d of %d objects", rev, len(seen), objects)
	}

	// A watch from the list's revision sees every change after it, with the previous object.
	watchCtx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	w := cli.Watch(watchCtx, p+"pods/", clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV(), clientv3.WithProgressNotify())

	// Optimistic updates: four writers each add 25 to one object's counter, re-reading on conflict.
	counter := p + "configmaps/default/counter"
	if _, err := cli.Put(ctx, counter, "0"); err != nil {
		return err
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() { errs <- guaranteedUpdates(ctx, cli, counter, 25) }()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	final, err := cli.Get(ctx, counter)
	if err != nil {
		return err
	}
	if err := expect(len(final.Kvs) == 1 && string(final.Kvs[0].Value) == "100", "the counter after 4 × 25 optimistic updates: %v", final.Kvs); err != nil {
		return err
	}

	// Delete with a precondition: a stale mod revision fails and returns the object; the current one deletes.
	cur, err := cli.Get(ctx, pod(1))
	if err != nil {
		return err
	}
	stale, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(pod(1)), "=", cur.Kvs[0].ModRevision-1)).Then(clientv3.OpDelete(pod(1))).Else(clientv3.OpGet(pod(1))).Commit()
	if err != nil {
		return err
	}
	deleted, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(pod(1)), "=", cur.Kvs[0].ModRevision)).Then(clientv3.OpDelete(pod(1), clientv3.WithPrevKV())).Else(clientv3.OpGet(pod(1))).Commit()
	if err != nil {
		return err
	}
	if err := first(
		expect(!stale.Succeeded && len(stale.Responses[0].GetResponseRange().Kvs) == 1, "a delete with a stale precondition: %+v", stale),
		expect(deleted.Succeeded && deleted.Responses[0].GetResponseDeleteRange().Deleted == 1, "a delete with the current precondition: %+v", deleted),
	); err != nil {
		return err
	}
	count, err := cli.Get(ctx, p+"pods/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if err := expect(count.Count == objects-1, "count: %d", count.Count); err != nil {
		return err
	}

	// The watch saw every change after the list's revision: the writer's, then the delete (with the object before).
	until := deleted.Header.Revision
	lastRev, changes := rev, 0
	for lastRev < until {
		r, err := next(w, 30*time.Second)
		if err != nil {
			return fmt.Errorf("watch from the list's revision, at %d of %d: %v", lastRev, until, err)
		}
		if err := r.Err(); err != nil {
			return err
		}
		for _, ev := range r.Events {
			if ev.Kv.ModRevision <= lastRev {
				return fmt.Errorf("watch event at revision %d after %d", ev.Kv.ModRevision, lastRev)
			}
			lastRev = ev.Kv.ModRevision
			changes++
			if ev.Kv.ModRevision == until && (ev.PrevKv == nil || string(ev.PrevKv.Key) != pod(1)) {
				return fmt.Errorf("the delete's event lacks the object: %+v", ev)
			}
		}
	}

	// Events: many keys on one shared lease, as the API server attaches events to one lease per minute.
	lease, err := cli.Grant(ctx, 3600)
	if err != nil {
		return err
	}
	defer cli.Revoke(context.Background(), lease.ID)
	for i := 0; i < 200; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("%sevents/default/e-%03d", p, i), "event", clientv3.WithLease(lease.ID)); err != nil {
			return err
		}
	}
	ttl, err := cli.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err != nil {
		return err
	}
	if err := expect(len(ttl.Keys) == 200, "keys on the events lease: %d", len(ttl.Keys)); err != nil {
		return err
	}

	// The compactor: compact_rev_key's version as the fencing token, then Compact.
	compactKey := e.pfx + "compact_rev_key"
	cr, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Version(compactKey), "=", 0)).
		Then(clientv3.OpPut(compactKey, strconv.FormatInt(until, 10))).Else(clientv3.OpGet(compactKey)).Commit()
	if err != nil {
		return err
	}
	if !cr.Succeeded {
		return fmt.Errorf("the first compactor txn failed")
	}
	if _, err := cli.Compact(ctx, until); err != nil {
		return err
	}
	_, listOld := cli.Get(ctx, p+"pods/", clientv3.WithRange(prefixEnd), clientv3.WithLimit(pageSize), clientv3.WithRev(rev))
	old := cli.Watch(watchCtx, p+"pods/", clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	resp, err := next(old, 30*time.Second)
	if err != nil {
		return err
	}
	return first(
		expectErr(listOld, rpctypes.ErrCompacted, "a list at a compacted revision"),
		expect(resp.Canceled && resp.CompactRevision == until, "a watch from a compacted revision: canceled %v at %d", resp.Canceled, resp.CompactRevision),
		expect(changes > 0, "the watch saw no change"),
	)
}

// guaranteedUpdates adds 1 to key's integer n times, each a read then a txn on its mod revision, retried with the
// value the failed txn returns (the API server's GuaranteedUpdate).
func guaranteedUpdates(ctx context.Context, cli *clientv3.Client, key string, n int) error {
	r, err := cli.Get(ctx, key)
	if err != nil {
		return err
	}
	kv := r.Kvs[0]
	for done := 0; done < n; {
		v, _ := strconv.Atoi(string(kv.Value))
		t, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpPut(key, strconv.Itoa(v+1))).Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return err
		}
		if t.Succeeded {
			done++
			latest, err := cli.Get(ctx, key)
			if err != nil {
				return err
			}
			kv = latest.Kvs[0]
			continue
		}
		kv = t.Responses[0].GetResponseRange().Kvs[0]
	}
	return nil
}
