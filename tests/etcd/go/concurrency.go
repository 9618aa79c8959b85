package main

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// checkMutex: four sessions take one concurrency.Mutex five times each; no two hold it at once, and a counter
// incremented by read-then-write inside the lock loses no increment. A put guarded by IsOwner commits only for the owner.
func checkMutex(ctx context.Context, e *env) error {
	const workers, rounds = 4, 5
	var holders, overlaps int32
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				s, err := concurrency.NewSession(e.cli, concurrency.WithTTL(10))
				if err != nil {
					return err
				}
				defer s.Close()
				m := concurrency.NewMutex(s, e.pfx+"lock")
				for i := 0; i < rounds; i++ {
					if err := m.Lock(ctx); err != nil {
						return fmt.Errorf("lock: %v", err)
					}
					if atomic.AddInt32(&holders, 1) > 1 {
						atomic.AddInt32(&overlaps, 1)
					}
					r, err := e.cli.Get(ctx, e.pfx+"counter")
					if err != nil {
						return err
					}
					n := 0
					if len(r.Kvs) == 1 {
						n, _ = strconv.Atoi(string(r.Kvs[0].Value))
					}
					guarded, err := e.cli.Txn(ctx).If(m.IsOwner()).Then(clientv3.OpPut(e.pfx+"counter", strconv.Itoa(n+1))).Commit()
					if err != nil {
						return err
					}
					if !guarded.Succeeded {
						return fmt.Errorf("the lock's owner failed its IsOwner compare")
					}
					atomic.AddInt32(&holders, -1)
					if err := m.Unlock(ctx); err != nil {
						return fmt.Errorf("unlock: %v", err)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	r, err := e.cli.Get(ctx, e.pfx+"counter")
	if err != nil {
		return err
	}
	// A mutex never locked has no key of its own: its IsOwner compare names the empty key, which etcd refuses.
	s, err := concurrency.NewSession(e.cli)
	if err != nil {
		return err
	}
	defer s.Close()
	_, notOwner := e.cli.Txn(ctx).If(concurrency.NewMutex(s, e.pfx+"lock").IsOwner()).Then(clientv3.OpPut(e.pfx+"counter", "stolen")).Commit()
	return first(
		expect(overlaps == 0, "%d times two sessions held the lock at once", overlaps),
		expect(len(r.Kvs) == 1 && string(r.Kvs[0].Value) == strconv.Itoa(workers*rounds), "counter: %v", r.Kvs),
		expectErr(notOwner, rpctypes.ErrEmptyKey, "IsOwner of a mutex never locked"),
	)
}

// checkElection: three candidates; the first leads, Observe follows proclamations, Resign and a closed session
// (its lease revoked) hand leadership on in campaign order.
func checkElection(ctx context.Context, e *env) error {
	name := e.pfx + "election"
	sessions := make([]*concurrency.Session, 3)
	elections := make([]*concurrency.Election, 3)
	for i := range sessions {
		s, err := concurrency.NewSession(e.cli, concurrency.WithTTL(10))
		if err != nil {
			return err
		}
		defer s.Close()
		sessions[i], elections[i] = s, concurrency.NewElection(s, name)
	}
	if err := elections[0].Campaign(ctx, "c0"); err != nil {
		return err
	}
	won := make([]chan error, 3)
	for i := 1; i < 3; i++ {
		won[i] = make(chan error, 1)
		go func(i int) { won[i] <- elections[i].Campaign(ctx, fmt.Sprintf("c%d", i)) }(i)
		// Campaign order decides succession: wait until candidate i's key exists before the next one campaigns.
		if err := eventually(ctx, 30*time.Second, "candidate's key", func() (bool, error) {
			r, err := e.cli.Get(ctx, name+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
			return err == nil && r.Count == int64(i+1), err
		}); err != nil {
			return err
		}
	}
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	observer := concurrency.NewElection(sessions[0], name)
	observed := observer.Observe(octx)
	waitLeader := func(value string) error {
		deadline := time.After(30 * time.Second)
		for {
			select {
			case r, ok := <-observed:
				if !ok {
					return fmt.Errorf("observe ended waiting for %q", value)
				}
				if len(r.Kvs) == 1 && string(r.Kvs[0].Value) == value {
					return nil
				}
			case <-deadline:
				return fmt.Errorf("observe did not see leader %q", value)
			}
		}
	}
	if err := waitLeader("c0"); err != nil {
		return err
	}
	leader, err := observer.Leader(ctx)
	if err != nil {
		return err
	}
	if err := expect(string(leader.Kvs[0].Value) == "c0", "leader: %s", leader.Kvs[0].Value); err != nil {
		return err
	}
	if err := elections[0].Proclaim(ctx, "c0-proclaimed"); err != nil {
		return err
	}
	if err := waitLeader("c0-proclaimed"); err != nil {
		return err
	}
	select {
	case err := <-won[1]:
		return fmt.Errorf("candidate 1 won while candidate 0 led (%v)", err)
	default:
	}
	if err := elections[0].Resign(ctx); err != nil {
		return err
	}
	if err := waitOn(won[1], "candidate 1 after a resignation"); err != nil {
		return err
	}
	if err := waitLeader("c1"); err != nil {
		return err
	}
	if err := sessions[1].Close(); err != nil {
		return err
	}
	if err := waitOn(won[2], "candidate 2 after the leader's session closed"); err != nil {
		return err
	}
	return waitLeader("c2")
}

func waitOn(ch chan error, what string) error {
	select {
	case err := <-ch:
		if err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no win within 30 s", what)
	}
}

// checkStm: a bank of five accounts; four workers move money between random accounts through concurrency.NewSTM,
// once per isolation level that keeps the total; the total never changes.
func checkStm(ctx context.Context, e *env) error {
	const accounts, workers, transfers = 5, 4, 15
	account := func(i int) string { return fmt.Sprintf("%saccount/%d", e.pfx, i) }
	for i := 0; i < accounts; i++ {
		if _, err := e.cli.Put(ctx, account(i), "100"); err != nil {
			return err
		}
	}
	for _, iso := range []concurrency.Isolation{concurrency.SerializableSnapshot, concurrency.Serializable, concurrency.RepeatableReads} {
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			go func(seed int64) {
				rng := rand.New(rand.NewSource(seed))
				for t := 0; t < transfers; t++ {
					from, to := rng.Intn(accounts), rng.Intn(accounts)
					if from == to {
						continue
					}
					_, err := concurrency.NewSTM(e.cli, func(s concurrency.STM) error {
						a, _ := strconv.Atoi(s.Get(account(from)))
						b, _ := strconv.Atoi(s.Get(account(to)))
						amount := a / 3
						s.Put(account(from), strconv.Itoa(a-amount))
						s.Put(account(to), strconv.Itoa(b+amount))
						return nil
					}, concurrency.WithIsolation(iso), concurrency.WithAbortContext(ctx))
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}(e.seed + int64(w))
		}
		for w := 0; w < workers; w++ {
			if err := <-errs; err != nil {
				return fmt.Errorf("isolation %d: %v", iso, err)
			}
		}
		r, err := e.cli.Get(ctx, e.pfx+"account/", clientv3.WithPrefix())
		if err != nil {
			return err
		}
		total := 0
		for _, kv := range r.Kvs {
			n, _ := strconv.Atoi(string(kv.Value))
			total += n
		}
		if total != accounts*100 {
			return fmt.Errorf("isolation %d: the accounts hold %d, not %d", iso, total, accounts*100)
		}
	}
	return nil
}
