package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// next reads one watch response within d.
func next(ch clientv3.WatchChan, d time.Duration) (clientv3.WatchResponse, error) {
	select {
	case r, ok := <-ch:
		if !ok {
			return r, fmt.Errorf("watch channel closed")
		}
		return r, nil
	case <-time.After(d):
		return clientv3.WatchResponse{}, fmt.Errorf("no watch response within %v", d)
	}
}

// events reads watch responses until n events have arrived.
func events(ch clientv3.WatchChan, n int) ([]*clientv3.Event, error) {
	var got []*clientv3.Event
	for len(got) < n {
		r, err := next(ch, 30*time.Second)
		if err != nil {
			return got, fmt.Errorf("after %d of %d events: %v", len(got), n, err)
		}
		if err := r.Err(); err != nil {
			return got, err
		}
		got = append(got, r.Events...)
	}
	return got, nil
}

// checkWatch: live events with prev kv, history from a revision, filters, created and progress notifications,
// and many watchers on one client's stream.
func checkWatch(ctx context.Context, e *env) error {
	cli, p := e.cli, e.pfx
	start, err := cli.Put(ctx, p+"seed", "0")
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	live := cli.Watch(wctx, p, clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithCreatedNotify())
	created, err := next(live, 30*time.Second)
	if err != nil {
		return err
	}
	if err := expect(created.Created && created.Header.Revision >= start.Header.Revision, "created notification: %+v", created); err != nil {
		return err
	}
	noDeletes := cli.Watch(wctx, p, clientv3.WithPrefix(), clientv3.WithFilterDelete())
	one := cli.Watch(wctx, p+"a")

	if _, err := cli.Put(ctx, p+"a", "1"); err != nil {
		return err
	}
	if _, err := cli.Put(ctx, p+"a", "2"); err != nil {
		return err
	}
	if _, err := cli.Delete(ctx, p+"a"); err != nil {
		return err
	}
	last, err := cli.Put(ctx, p+"b", "3")
	if err != nil {
		return err
	}

	all, err := events(live, 4)
	if err != nil {
		return fmt.Errorf("prefix watch: %v", err)
	}
	puts, err := events(noDeletes, 3)
	if err != nil {
		return fmt.Errorf("watch without deletes: %v", err)
	}
	ofA, err := events(one, 3)
	if err != nil {
		return fmt.Errorf("one key's watch: %v", err)
	}
	if err := first(
		expect(len(all) == 4 && all[0].IsCreate() && all[1].IsModify() && all[2].Type == mvccpb.DELETE && all[3].IsCreate(), "event kinds: %v", all),
		expect(all[1].PrevKv != nil && string(all[1].PrevKv.Value) == "1", "modify's prev kv: %v", all[1].PrevKv),
		expect(all[2].PrevKv != nil && string(all[2].PrevKv.Value) == "2" && all[2].Kv.ModRevision > all[1].Kv.ModRevision, "delete's prev kv and revision: %+v", all[2]),
		expect(all[3].Kv.ModRevision == last.Header.Revision, "last event's revision %d, put's %d", all[3].Kv.ModRevision, last.Header.Revision),
		expect(len(puts) == 3 && puts[2].Kv.ModRevision == last.Header.Revision, "filtered watch: %v", puts),
		expect(len(ofA) == 3 && ofA[2].Type == mvccpb.DELETE, "one key's events: %v", ofA),
	); err != nil {
		return err
	}

	history := cli.Watch(wctx, p, clientv3.WithPrefix(), clientv3.WithRev(start.Header.Revision))
	old, err := events(history, 5)
	if err != nil {
		return fmt.Errorf("watch from a past revision: %v", err)
	}
	if err := expect(len(old) == 5 && string(old[0].Kv.Key) == p+"seed" && old[4].Kv.ModRevision == last.Header.Revision, "history: %v", old); err != nil {
		return err
	}

	if !e.proxied {
		if err := progressNotify(wctx, e, last.Header.Revision); err != nil {
			return err
		}
	}

	// 20 watchers on one stream, each of its own key.
	chans := make([]clientv3.WatchChan, 20)
	for i := range chans {
		chans[i] = cli.Watch(wctx, fmt.Sprintf("%smany/%02d", p, i))
	}
	for i := range chans {
		if _, err := cli.Put(ctx, fmt.Sprintf("%smany/%02d", p, i), "x"); err != nil {
			return err
		}
	}
	for i, ch := range chans {
		got, err := events(ch, 1)
		if err != nil {
			return fmt.Errorf("watcher %d: %v", i, err)
		}
		if err := expect(len(got) == 1 && string(got[0].Kv.Key) == fmt.Sprintf("%smany/%02d", p, i), "watcher %d got %v", i, got); err != nil {
			return err
		}
	}
	return nil
}

// checkWatchCompacted: a watch from a compacted revision is cancelled with the compact revision, and clientv3 reports
// ErrCompacted; a get there too.
func checkWatchCompacted(ctx context.Context, e *env) error {
	cli, p := e.cli, e.pfx
	r1, err := cli.Put(ctx, p+"k", "1")
	if err != nil {
		return err
	}
	r2, err := cli.Put(ctx, p+"k", "2")
	if err != nil {
		return err
	}
	if _, err := cli.Compact(ctx, r2.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		return fmt.Errorf("compact: %v", err)
	}
	_, getErr := cli.Get(ctx, p+"k", clientv3.WithRev(r1.Header.Revision))
	_, again := cli.Compact(ctx, r1.Header.Revision)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := cli.Watch(wctx, p+"k", clientv3.WithRev(r1.Header.Revision))
	resp, err := next(w, 30*time.Second)
	if err != nil {
		return err
	}
	return first(
		expectErr(getErr, rpctypes.ErrCompacted, "get at a compacted revision"),
		expectErr(again, rpctypes.ErrCompacted, "compacting again below the compacted revision"),
		expect(resp.Canceled && resp.CompactRevision == r2.Header.Revision, "watch from a compacted revision: canceled %v, compact revision %d (want %d)", resp.Canceled, resp.CompactRevision, r2.Header.Revision),
		expectErr(resp.Err(), rpctypes.ErrCompacted, "the watch response's error"),
	)
}

// progressNotify: a watch asked for progress notifications gets one, at or after the revision after, once
// RequestProgress asks (etcd 3.4's grpc-proxy does not pass that request on: -proxied skips this).
func progressNotify(wctx context.Context, e *env, after int64) error {
	cli := e.cli
	progress := cli.Watch(wctx, e.pfx+"quiet", clientv3.WithProgressNotify(), clientv3.WithCreatedNotify())
	if _, err := next(progress, 30*time.Second); err != nil {
		return err
	}
	if err := cli.RequestProgress(wctx); err != nil {
		return fmt.Errorf("request progress: %v", err)
	}
	for {
		r, err := next(progress, 30*time.Second)
		if err != nil {
			return fmt.Errorf("progress notification: %v", err)
		}
		if r.IsProgressNotify() {
			if err := expect(r.Header.Revision >= after, "progress at revision %d before the last put %d", r.Header.Revision, after); err != nil {
				return err
			}
			break
		}
		if len(r.Events) > 0 {
			return fmt.Errorf("events on a key nobody wrote: %v", r.Events)
		}
	}
	return nil
}
