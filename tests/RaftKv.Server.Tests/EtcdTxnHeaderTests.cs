using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Tests;

/// <summary>
/// etcd gives each op's response inside a Txn the revision as of that op (<c>storeTxnWrite</c>: a put the txn's new
/// revision; a delete the previous revision until it or an earlier op changed something; a range the revision it read
/// at, whatever revision it read the history at), nested txns included (<see cref="EtcdMapping.ToProto(KvTxn, TxnResult, Func{long, V3.ResponseHeader})"/>).
/// </summary>
public sealed class EtcdTxnHeaderTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static V3.ResponseHeader Header(long revision) => new() { Revision = revision };

    private static long Of(V3.ResponseOp op) => op.ResponseCase switch
    {
        V3.ResponseOp.ResponseOneofCase.ResponsePut => op.ResponsePut.Header.Revision,
        V3.ResponseOp.ResponseOneofCase.ResponseDeleteRange => op.ResponseDeleteRange.Header.Revision,
        V3.ResponseOp.ResponseOneofCase.ResponseRange => op.ResponseRange.Header.Revision,
        _ => -1,
    };

    [Fact]
    public void EachOpShowsTheRevisionAsOfThatOp()
    {
        var nested = new KvTxn([], [KvOp.Delete(B("none")), KvOp.RangeRead(new RangeRequest(B("a"), Revision: 3))], []);
        var txn = new KvTxn([], [KvOp.Delete(B("none")), KvOp.RangeRead(new RangeRequest(B("a"))), KvOp.Txn(nested), KvOp.Delete(B("a")), KvOp.Delete(B("none")), KvOp.RangeRead(new RangeRequest(B("a"), Revision: 3)), KvOp.Put(B("b"), B("1"))], []);
        var range = new RangeResult([], false, 0, 0);
        var nestedResult = new TxnResult(0, true, [new OpResult(), new OpResult(Range: range)]);
        var result = new TxnResult(7, true, [new OpResult(), new OpResult(Range: range), new OpResult(Nested: nestedResult), new OpResult(Deleted: 1), new OpResult(), new OpResult(Range: range), new OpResult()], 11);

        var response = EtcdMapping.ToProto(txn, result, Header);
        Assert.Equal(11, response.Header.Revision);
        Assert.Equal([10L, 10, -1, 11, 11, 11, 11], response.Responses.Select(Of));
        Assert.Equal([10L, 10], response.Responses[2].ResponseTxn.Responses.Select(Of));

        // Nothing changed: every op shows the current revision.
        var readOnly = new KvTxn([], [KvOp.Delete(B("none")), KvOp.RangeRead(new RangeRequest(B("a"), Revision: 2))], []);
        var unchanged = EtcdMapping.ToProto(readOnly, new TxnResult(8, true, [new OpResult(), new OpResult(Range: range)], 10), Header);
        Assert.Equal([10L, 10], unchanged.Responses.Select(Of));
    }
}
