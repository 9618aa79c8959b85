package main

import (
	"context"

	"go.etcd.io/etcd/clientv3"
)

// checkTxn: compares on every target, both branches, nested transactions, range compares and read-your-writes.
func checkTxn(ctx context.Context, e *env) error {
	kv, p := e.cli.KV, e.pfx
	lease, err := e.cli.Grant(ctx, 60)
	if err != nil {
		return err
	}
	defer e.cli.Revoke(context.Background(), lease.ID)
	put, err := kv.Put(ctx, p+"k", "v1", clientv3.WithLease(lease.ID))
	if err != nil {
		return err
	}
	rev := put.Header.Revision

	ok, err := kv.Txn(ctx).If(
		clientv3.Compare(clientv3.Value(p+"k"), "=", "v1"),
		clientv3.Compare(clientv3.Version(p+"k"), "=", 1),
		clientv3.Compare(clientv3.CreateRevision(p+"k"), "=", rev),
		clientv3.Compare(clientv3.ModRevision(p+"k"), "<", rev+1),
		clientv3.Compare(clientv3.LeaseValue(p+"k"), "=", lease.ID),
		clientv3.Compare(clientv3.Version(p+"absent"), "=", 0),
		clientv3.Compare(clientv3.Value(p+"k"), "!=", "v2"),
	).Then(
		clientv3.OpPut(p+"k", "v2", clientv3.WithPrevKV()),
		clientv3.OpGet(p+"k"),
		clientv3.OpDelete(p+"absent"),
	).Else(clientv3.OpPut(p+"else", "x")).Commit()
	if err != nil {
		return err
	}
	if !ok.Succeeded || len(ok.Responses) != 3 {
		return expect(false, "the then branch: succeeded %v, %d responses", ok.Succeeded, len(ok.Responses))
	}
	prev := ok.Responses[0].GetResponsePut().PrevKv
	got := ok.Responses[1].GetResponseRange().Kvs
	if err := first(
		expect(prev != nil && string(prev.Value) == "v1", "txn put's prev kv: %v", prev),
		expect(len(got) == 1 && string(got[0].Value) == "v2", "a get after a put in one txn reads the put: %v", got),
		expect(ok.Responses[2].GetResponseDeleteRange().Deleted == 0, "deleted an absent key"),
		expect(len(got) == 1 && ok.Header.Revision > rev && got[0].ModRevision == ok.Header.Revision, "the txn's revision %d after %d, its get %v", ok.Header.Revision, rev, got),
	); err != nil {
		return err
	}

	no, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.Value(p+"k"), "=", "v1")).
		Then(clientv3.OpPut(p+"then", "x")).
		Else(clientv3.OpGet(p+"k"), clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Version(p+"k"), "=", 2)},
			[]clientv3.Op{clientv3.OpPut(p+"nested", "yes")},
			nil)).Commit()
	if err != nil {
		return err
	}
	if !(!no.Succeeded && len(no.Responses) == 2) {
		return expect(false, "the else branch: succeeded %v, %d responses", no.Succeeded, len(no.Responses))
	}
	nested := no.Responses[1].GetResponseTxn()
	if err := expect(nested != nil && nested.Succeeded, "nested txn: %v", nested); err != nil {
		return err
	}

	for _, k := range []string{"r/1", "r/2", "r/3"} {
		if _, err := kv.Put(ctx, p+k, "x"); err != nil {
			return err
		}
	}
	rangeCmp, err := kv.Txn(ctx).If(
		clientv3.Compare(clientv3.Version(p+"r/"), ">", 0).WithPrefix(),
		clientv3.Compare(clientv3.Value(p+"r/"), "=", "x").WithPrefix(),
	).Commit()
	if err != nil {
		return err
	}
	rangeCmpFails, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(p+"r/1"), ">", 0).WithRange(p + "r/9")).Commit()
	if err != nil {
		return err
	}
	thenGot, err := kv.Get(ctx, p+"then")
	if err != nil {
		return err
	}
	nestedGot, err := kv.Get(ctx, p+"nested")
	if err != nil {
		return err
	}
	return first(
		expect(rangeCmp.Succeeded, "a compare over a prefix whose keys all match"),
		expect(rangeCmpFails.Succeeded, "create revision > 0 over [r/1, r/9): every key exists"),
		expect(len(thenGot.Kvs) == 0, "the then branch of a failed txn ran"),
		expect(len(nestedGot.Kvs) == 1, "the nested txn's put is missing"),
	)
}
