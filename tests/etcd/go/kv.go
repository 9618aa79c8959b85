package main

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// checkKv: puts, gets with every range option clientv3 has, revisions and deletes.
func checkKv(ctx context.Context, e *env) error {
	kv, p := e.cli.KV, e.pfx
	put1, err := kv.Put(ctx, p+"a", "1")
	if err != nil {
		return err
	}
	put2, err := kv.Put(ctx, p+"a", "2", clientv3.WithPrevKV())
	if err != nil {
		return err
	}
	if err := first(
		expect(put2.PrevKv != nil && string(put2.PrevKv.Value) == "1", "put with prev kv: %v", put2.PrevKv),
		expect(put2.Header.Revision > put1.Header.Revision, "revision did not grow: %d then %d", put1.Header.Revision, put2.Header.Revision),
	); err != nil {
		return err
	}
	for _, k := range []string{"b", "c", "d", "e"} {
		if _, err := kv.Put(ctx, p+k, strings.ToUpper(k)); err != nil {
			return err
		}
	}

	get, err := kv.Get(ctx, p+"a")
	if err != nil {
		return err
	}
	if len(get.Kvs) != 1 {
		return fmt.Errorf("get a: %v", get.Kvs)
	}
	a := get.Kvs[0]
	if err := first(
		expect(len(get.Kvs) == 1 && string(a.Value) == "2", "get a: %v", get.Kvs),
		expect(a.Version == 2 && a.CreateRevision == put1.Header.Revision && a.ModRevision == put2.Header.Revision, "a's versions: %+v", a),
	); err != nil {
		return err
	}

	old, err := kv.Get(ctx, p+"a", clientv3.WithRev(put1.Header.Revision))
	if err != nil {
		return err
	}
	if err := expect(len(old.Kvs) == 1 && string(old.Kvs[0].Value) == "1", "get at the first revision: %v", old.Kvs); err != nil {
		return err
	}

	all, err := kv.Get(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	limited, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithLimit(2))
	if err != nil {
		return err
	}
	desc, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	if err != nil {
		return err
	}
	byValue, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	if err != nil {
		return err
	}
	keysOnly, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return err
	}
	count, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	ranged, err := kv.Get(ctx, p+"b", clientv3.WithRange(p+"d"))
	if err != nil {
		return err
	}
	fromKey, err := kv.Get(ctx, p+"d", clientv3.WithFromKey(), clientv3.WithLimit(10))
	if err != nil {
		return err
	}
	minMod, err := kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithMinModRev(put2.Header.Revision+1))
	if err != nil {
		return err
	}
	serializable, err := kv.Get(ctx, p+"e", clientv3.WithSerializable())
	if err != nil {
		return err
	}
	if err := first(
		expect(keys(all) == "a b c d e" && all.Count == 5 && !all.More, "prefix: %s count %d more %v", keys(all), all.Count, all.More),
		expect(keys(limited) == "a b" && limited.Count == 5 && limited.More, "limit 2: %s count %d more %v", keys(limited), limited.Count, limited.More),
		expect(keys(desc) == "e d c b a", "descending: %s", keys(desc)),
		expect(keys(byValue) == "a b c d e", "by mod revision: %s", keys(byValue)),
		expect(len(keysOnly.Kvs) == 5 && len(keysOnly.Kvs[0].Value) == 0, "keys only returned values"),
		expect(count.Count == 5 && len(count.Kvs) == 0, "count only: %d, %d kvs", count.Count, len(count.Kvs)),
		expect(keys(ranged) == "b c", "range [b, d): %s", keys(ranged)),
		expect(strings.HasPrefix(keys(fromKey), "d e"), "from key d: %s", keys(fromKey)),
		expect(keys(minMod) == "b c d e", "min mod revision: %s", keys(minMod)),
		expect(len(serializable.Kvs) == 1 && string(serializable.Kvs[0].Value) == "E", "serializable get: %v", serializable.Kvs),
	); err != nil {
		return err
	}

	if _, err := kv.Put(ctx, p+"a", "", clientv3.WithIgnoreValue()); err != nil {
		return fmt.Errorf("put ignoring the value: %v", err)
	}
	kept, err := kv.Get(ctx, p+"a")
	if err != nil {
		return err
	}
	if err := expect(len(kept.Kvs) == 1 && string(kept.Kvs[0].Value) == "2" && kept.Kvs[0].Version == 3, "ignore value: %+v", kept.Kvs); err != nil {
		return err
	}

	del, err := kv.Delete(ctx, p+"c", clientv3.WithRange(p+"e"), clientv3.WithPrevKV())
	if err != nil {
		return err
	}
	if err := expect(del.Deleted == 2 && len(del.PrevKvs) == 2 && string(del.PrevKvs[0].Value) == "C", "delete [c, e): %d %v", del.Deleted, del.PrevKvs); err != nil {
		return err
	}
	none, err := kv.Delete(ctx, p+"zzz")
	if err != nil {
		return err
	}
	after, err := kv.Get(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	return first(
		expect(none.Deleted == 0 && none.Header.Revision >= del.Header.Revision, "deleting nothing: %+v", none),
		expect(keys(after) == "a b e", "after deletes: %s", keys(after)),
	)
}

// checkKvErrors: etcd's typed errors, which clientv3 maps from the status message (rpctypes). (Not the request size:
// RaftKv takes values up to MAX_VALUE_BYTES, 8 MiB, where etcd refuses requests over 1.5 MiB; docs/api.md.)
func checkKvErrors(ctx context.Context, e *env) error {
	kv, p := e.cli.KV, e.pfx
	_, emptyKey := kv.Put(ctx, "", "x")
	_, ignoreMissing := kv.Put(ctx, p+"missing", "", clientv3.WithIgnoreValue())
	_, noLease := kv.Put(ctx, p+"x", "1", clientv3.WithLease(clientv3.LeaseID(0x7fffffff0000abcd)))
	now, err := kv.Put(ctx, p+"now", "1")
	if err != nil {
		return err
	}
	_, future := kv.Get(ctx, p+"now", clientv3.WithRev(now.Header.Revision+1000000))
	_, futureCompact := kv.Compact(ctx, now.Header.Revision+1000000)
	ops := make([]clientv3.Op, 129)
	for i := range ops {
		ops[i] = clientv3.OpPut(fmt.Sprintf("%sops/%03d", p, i), "v")
	}
	_, tooManyOps := kv.Txn(ctx).Then(ops...).Commit()
	_, duplicate := kv.Txn(ctx).Then(clientv3.OpPut(p+"dup", "1"), clientv3.OpPut(p+"dup", "2")).Commit()
	return first(
		expectErr(emptyKey, rpctypes.ErrEmptyKey, "put of an empty key"),
		expectErr(ignoreMissing, rpctypes.ErrKeyNotFound, "ignore value on a missing key"),
		expectErr(noLease, rpctypes.ErrLeaseNotFound, "put with a lease that does not exist"),
		expectErr(future, rpctypes.ErrFutureRev, "get at a future revision"),
		expectErr(futureCompact, rpctypes.ErrFutureRev, "compact to a future revision"),
		expectErr(tooManyOps, rpctypes.ErrTooManyOps, "a txn of 129 operations"),
		expectErr(duplicate, rpctypes.ErrDuplicateKey, "a txn putting one key twice"),
	)
}

func keys(r *clientv3.GetResponse) string {
	var b []string
	for _, kv := range r.Kvs {
		k := string(kv.Key)
		b = append(b, k[strings.LastIndex(k, "/")+1:])
	}
	return strings.Join(b, " ")
}
