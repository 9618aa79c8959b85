package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// checkFailover runs until the file -until exists (at most -seconds) while the test kills and restarts members: one writer puts 1, 2, 3, … to a key;
// one watcher follows it with clientv3's watch (which resumes on another member from the next revision); one reader
// does linearizable gets. At the end: every acknowledged value was watched, in order, none twice, revisions only
// grew, the last watched value is the key's value, and no read returned a value older than one acknowledged before
// the read began.
func checkFailover(ctx context.Context, e *env) error {
	key := e.pfx + "counter"
	start, err := e.cli.Put(ctx, key, "0")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	acked := map[int]bool{}
	lastAcked, failedPuts := 0, 0
	end := time.Now().Add(time.Duration(e.seconds) * time.Second)
	running := func() bool {
		if e.until != "" {
			if _, err := os.Stat(e.until); err == nil {
				return false
			}
		}
		return time.Now().Before(end)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := e.cli.Watch(wctx, key, clientv3.WithRev(start.Header.Revision+1))

	var wg sync.WaitGroup
	var readErr error
	wg.Add(2)
	go func() { // writer
		defer wg.Done()
		for v := 1; running(); v++ {
			pctx, c := context.WithTimeout(ctx, 5*time.Second)
			_, err := e.cli.Put(pctx, key, strconv.Itoa(v))
			c()
			mu.Lock()
			if err == nil {
				acked[v], lastAcked = true, v
			} else {
				failedPuts++
			}
			mu.Unlock()
		}
	}()
	go func() { // reader
		defer wg.Done()
		for running() {
			mu.Lock()
			floor := lastAcked
			mu.Unlock()
			gctx, c := context.WithTimeout(ctx, 5*time.Second)
			r, err := e.cli.Get(gctx, key)
			c()
			if err != nil || len(r.Kvs) != 1 {
				continue
			}
			if v, _ := strconv.Atoi(string(r.Kvs[0].Value)); v < floor {
				readErr = fmt.Errorf("a linearizable get returned %d after %d was acknowledged", v, floor)
				return
			}
		}
	}()
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	final, err := e.cli.Get(ctx, key)
	if err != nil {
		return err
	}
	finalValue, _ := strconv.Atoi(string(final.Kvs[0].Value))

	seen := map[int]bool{}
	lastValue, lastRev, events := 0, start.Header.Revision, 0
	for lastValue != finalValue {
		r, err := next(watch, 60*time.Second)
		if err != nil {
			return fmt.Errorf("watch after %d events (last value %d, final %d): %v", events, lastValue, finalValue, err)
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("watch: %v", err)
		}
		for _, ev := range r.Events {
			v, _ := strconv.Atoi(string(ev.Kv.Value))
			if ev.Kv.ModRevision <= lastRev || v <= lastValue || seen[v] {
				return fmt.Errorf("watch event out of order: value %d at revision %d after value %d at revision %d", v, ev.Kv.ModRevision, lastValue, lastRev)
			}
			seen[v], lastValue, lastRev = true, v, ev.Kv.ModRevision
			events++
		}
	}
	missing := 0
	for v := range acked {
		if !seen[v] {
			missing++
		}
	}
	fmt.Printf("puts acknowledged %d, failed %d, watched %d, final %d\n", len(acked), failedPuts, events, finalValue)
	return first(
		expect(missing == 0, "%d acknowledged values were never watched", missing),
		expect(finalValue >= lastAcked, "final value %d below the last acknowledged %d", finalValue, lastAcked),
		expect(len(acked) > 0, "no put was acknowledged"),
	)
}
