using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class ChecksumAndVarintTests
{
    [Fact]
    public void Crc32CMatchesTheStandardCheckValue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(B("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void IncrementalCrcEqualsOneShot()
    {
        var data = new byte[10_000];
        new Random(42).NextBytes(data);
        var state = Crc32C.Start;
        for (var i = 0; i < data.Length; i += 777)
        {
            state = Crc32C.Append(state, data.AsSpan(i, Math.Min(777, data.Length - i)));
        }

        Assert.Equal(Crc32C.Compute(data), Crc32C.Finish(state));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Compute(data.AsSpan(0, 1234), data.AsSpan(1234)));
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(16_383UL, 2)]
    [InlineData(16_384UL, 3)]
    [InlineData(ulong.MaxValue, 10)]
    public void VarintRoundTripsWithTheExpectedLength(ulong value, int length)
    {
        var list = new List<byte>();
        Varint.Write(list, value);
        Assert.Equal(length, list.Count);

        Span<byte> span = stackalloc byte[10];
        Assert.Equal(length, Varint.Write(span, value));
        Assert.Equal(list.ToArray(), span[..length].ToArray());

        var pos = 0;
        Assert.Equal(value, Varint.Read(list.ToArray(), ref pos));
        Assert.Equal(length, pos);
    }

    [Fact]
    public void LengthPrefixedBytesRoundTripAndRejectOverruns()
    {
        var list = new List<byte>();
        Varint.WriteBytes(list, [1, 2, 3]);
        Varint.WriteBytes(list, []);
        var data = list.ToArray();
        var pos = 0;
        Assert.Equal([1, 2, 3], Varint.ReadBytes(data, ref pos));
        Assert.Empty(Varint.ReadBytes(data, ref pos));
        Assert.Equal(data.Length, pos);

        pos = 0;
        var truncated = data[..3]; // length 3, only 2 bytes follow
        Assert.Throws<FormatException>(() => Varint.ReadBytes(truncated, ref pos));
    }
}
