package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// checkLease: grant, attach, time-to-live with keys, keep-alive (once and streamed past the TTL), listing, revoke,
// expiry deleting the attached key, and etcd's "lease not found".
func checkLease(ctx context.Context, e *env) error {
	cli, p := e.cli, e.pfx
	g, err := cli.Grant(ctx, 30)
	if err != nil {
		return err
	}
	if _, err := cli.Put(ctx, p+"a", "1", clientv3.WithLease(g.ID)); err != nil {
		return err
	}
	if _, err := cli.Put(ctx, p+"b", "1", clientv3.WithLease(g.ID)); err != nil {
		return err
	}
	ttl, err := cli.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil {
		return err
	}
	once, err := cli.KeepAliveOnce(ctx, g.ID)
	if err != nil {
		return err
	}
	list, err := cli.Leases(ctx)
	if err != nil {
		return err
	}
	listed := false
	for _, l := range list.Leases {
		listed = listed || l.ID == g.ID
	}
	if err := first(
		expect(g.TTL == 30 && ttl.GrantedTTL == 30 && ttl.TTL > 0 && ttl.TTL <= 30, "ttl: granted %d, left %d", ttl.GrantedTTL, ttl.TTL),
		expect(len(ttl.Keys) == 2, "attached keys: %q", ttl.Keys),
		expect(once.ID == g.ID && once.TTL == 30, "keep-alive once: %+v", once),
		expect(listed, "lease %x not listed", g.ID),
	); err != nil {
		return err
	}
	if _, err := cli.Revoke(ctx, g.ID); err != nil {
		return err
	}
	gone, err := cli.Get(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	revokedTTL, err := cli.TimeToLive(ctx, g.ID)
	if err != nil {
		return fmt.Errorf("time to live of a revoked lease: %v", err)
	}
	_, onceRevoked := cli.KeepAliveOnce(ctx, g.ID)
	_, revokeAgain := cli.Revoke(ctx, g.ID)
	if err := first(
		expect(len(gone.Kvs) == 0, "keys of a revoked lease remain: %d", len(gone.Kvs)),
		expect(revokedTTL.TTL == -1, "time to live of a revoked lease: %d", revokedTTL.TTL),
		expectErr(onceRevoked, rpctypes.ErrLeaseNotFound, "keep-alive of a revoked lease"),
		expectErr(revokeAgain, rpctypes.ErrLeaseNotFound, "revoking twice"),
	); err != nil {
		return err
	}

	// Streamed keep-alive keeps a 2 s lease for three times its TTL; a lease left alone expires and its key goes.
	kept, err := cli.Grant(ctx, 2)
	if err != nil {
		return err
	}
	left, err := cli.Grant(ctx, 2)
	if err != nil {
		return err
	}
	if _, err := cli.Put(ctx, p+"kept", "1", clientv3.WithLease(kept.ID)); err != nil {
		return err
	}
	put, err := cli.Put(ctx, p+"left", "1", clientv3.WithLease(left.ID))
	if err != nil {
		return err
	}
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	alive, err := cli.KeepAlive(kctx, kept.ID)
	if err != nil {
		return err
	}
	w := cli.Watch(kctx, p+"left", clientv3.WithRev(put.Header.Revision+1))
	expired := time.Now()
	evs, err := events(w, 1)
	if err != nil {
		return fmt.Errorf("expiry of a 2 s lease: %v", err)
	}
	if err := expect(evs[0].Type == mvccpb.DELETE, "expiry's event: %v", evs[0]); err != nil {
		return err
	}
	answers := 0
	for time.Since(expired) < 6*time.Second {
		select {
		case r, ok := <-alive:
			if !ok {
				return fmt.Errorf("keep-alive channel closed after %d answers", answers)
			}
			if r.ID == kept.ID && r.TTL == 2 {
				answers++
			}
		case <-time.After(5 * time.Second):
			return fmt.Errorf("no keep-alive answer for 5 s")
		}
	}
	still, err := cli.Get(ctx, p+"kept")
	if err != nil {
		return err
	}
	return first(
		expect(answers >= 2, "keep-alive answers in 6 s: %d", answers),
		expect(len(still.Kvs) == 1, "the kept-alive lease's key expired"),
	)
}
