package main

import (
	"context"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/snapshot"
	"go.uber.org/zap"
)

// checkMaintenance: member list, status, hash, alarms and defragment at every endpoint, and a snapshot that
// clientv3/snapshot saves (checking etcd's sha256 trailer), reads as a bbolt database, and restores into an etcd data
// directory.
func checkMaintenance(ctx context.Context, e *env) error {
	if _, err := e.cli.Put(ctx, e.pfx+"k", "v"); err != nil {
		return err
	}
	members, err := e.cli.MemberList(ctx)
	if err != nil {
		return err
	}
	ids := map[uint64]bool{}
	for _, m := range members.Members {
		ids[m.ID] = true
		if err := expect(m.ID != 0 && len(m.ClientURLs) > 0 && len(m.PeerURLs) > 0 && m.Name != "", "member: %+v", m); err != nil {
			return err
		}
	}
	// The per-endpoint calls go through a client of their own: clientv3 3.4's Maintenance dials each endpoint with
	// Client.dial, which replaces the client's auth-token bundle with a new one, while its main connection keeps the
	// old bundle — every later refresh of an expired token lands in the new bundle, and the main connection sends the
	// first token forever ("invalid auth token" until its retries run out; seen with AUTH_TOKEN_TTL=3 once the check
	// outlasted the first token: the server's refusals all named that one token, issued when the check started).
	per := e.cli
	if e.user != "" {
		if per, err = e.newClient(e.user, e.password); err != nil {
			return err
		}
		defer per.Close()
	}
	var leaders []uint64
	for _, ep := range e.endpoints {
		st, err := per.Status(ctx, ep)
		if err != nil {
			return fmt.Errorf("status of %s: %v", ep, err)
		}
		leaders = append(leaders, st.Leader)
		if err := expect(ids[st.Header.MemberId] && ids[st.Leader] && st.RaftIndex > 0 && st.RaftTerm > 0 && st.DbSize > 0 && st.Version != "", "status of %s: %+v", ep, st); err != nil {
			return err
		}
		h, err := per.HashKV(ctx, ep, 0)
		if err != nil {
			return fmt.Errorf("hash of %s: %v", ep, err)
		}
		if err := expect(h.Header.Revision > 0, "hash kv of %s: %+v", ep, h); err != nil {
			return err
		}
		if _, err := per.Defragment(ctx, ep); err != nil {
			return fmt.Errorf("defragment %s: %v", ep, err)
		}
	}
	alarms, err := e.cli.AlarmList(ctx)
	if err != nil {
		return err
	}
	if err := expect(len(alarms.Alarms) == 0, "alarms: %v", alarms.Alarms); err != nil {
		return err
	}

	// The raw stream, then the package etcdctl's "snapshot save/status/restore" use.
	rc, err := e.cli.Snapshot(ctx)
	if err != nil {
		return err
	}
	n, err := io.Copy(ioutil.Discard, rc)
	rc.Close()
	if err != nil || n < 1024 {
		return fmt.Errorf("snapshot stream: %d bytes, %v", n, err)
	}
	dir, err := ioutil.TempDir("", "clientv3check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "snap.db")
	m := snapshot.NewV3(zap.NewNop())
	if err := m.Save(ctx, clientv3.Config{Endpoints: e.endpoints[:1], TLS: e.tls, Username: e.user, Password: e.password}, db); err != nil {
		return fmt.Errorf("snapshot save: %v", err)
	}
	st, err := m.Status(db)
	if err != nil {
		return fmt.Errorf("snapshot status: %v", err)
	}
	if err := expect(st.TotalKey > 0 && st.Revision > 0 && st.Hash != 0, "snapshot status: %+v", st); err != nil {
		return err
	}
	err = m.Restore(snapshot.RestoreConfig{
		SnapshotPath: db, Name: "restored", OutputDataDir: filepath.Join(dir, "restored.etcd"),
		PeerURLs: []string{"http://127.0.0.1:2380"}, InitialCluster: "restored=http://127.0.0.1:2380", InitialClusterToken: "t",
	})
	if err != nil {
		return fmt.Errorf("snapshot restore: %v", err)
	}
	return nil
}
