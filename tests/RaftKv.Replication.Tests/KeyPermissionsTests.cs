using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using Xunit.Abstractions;

namespace RaftKv.Replication.Tests;

/// <summary>
/// <see cref="KeyPermissions"/> (merged intervals, binary search) against a brute-force model: random roles with random
/// permissions over a tiny alphabet, random requests, and "every key of the request is inside some permission" checked
/// key by key. Keys of permissions and requests have at most 2 bytes of {0x00, a, b, c}, so every interval bound has at
/// most 3 (a single key k is [k, k\0)); an uncovered gap always contains its own lower bound, so checking every string of
/// at most 3 bytes is exact.
/// </summary>
public sealed class KeyPermissionsTests(ITestOutputHelper output)
{
    private static readonly byte[] Alphabet = [0, (byte)'a', (byte)'b', (byte)'c'];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void MergedPermissionsAgreeWithAKeyByKeyModel(int seed)
    {
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        var universe = Strings(3).ToList();
        for (var round = 0; round < 200; round++)
        {
            var roles = new Dictionary<string, AuthRole>();
            var granted = new List<string>();
            for (var r = 0; r < rng.Next(1, 4); r++)
            {
                var permissions = Enumerable.Range(0, rng.Next(0, 4))
                    .Select(_ => new AuthPermission((AuthPermissionType)rng.Next(3), Key(rng, allowEmpty: true), RangeEnd(rng)))
                    .ToList();
                roles[$"r{r}"] = new AuthRole($"r{r}", permissions);
                granted.Add($"r{r}");
            }

            granted.Add("gone"); // a role the state no longer holds is skipped
            var state = AuthTable.Make(true, 1, [], new Dictionary<string, AuthUser> { ["u"] = new("u", null, granted, 1) }, roles);
            var user = state.User("u")!;
            for (var q = 0; q < 50; q++)
            {
                var write = rng.Next(2) == 0;
                var key = Key(rng, allowEmpty: true);
                var end = RangeEnd(rng);
                var inverted = end is not ([] or [0]) && end.AsSpan().SequenceCompareTo(key) <= 0; // no key: judged as its first key
                var expected = universe.Where(k => inverted ? k.AsSpan().SequenceEqual(key) : InRange(k, key, end)).All(k => roles.Values.SelectMany(ro => ro.Permissions).Any(p => p.Allows(write) && InRange(k, p.Key, p.RangeEnd)));
                Assert.True(expected == KeyPermissions.Of(state, user, write).Covers(key, end),
                    $"seed {seed} round {round}: [{Show(key)}, {Show(end)}) write={write} expected {expected}; permissions {string.Join("; ", roles.Values.SelectMany(ro => ro.Permissions).Select(p => $"{p.Type} [{Show(p.Key)}, {Show(p.RangeEnd)})"))}");
            }
        }
    }

    [Fact]
    public void RootAndNothing()
    {
        var state = AuthTable.Make(true, 1, [], new Dictionary<string, AuthUser> { ["root"] = new("root", null, ["root"], 1), ["u"] = new("u", null, [], 1) }, new Dictionary<string, AuthRole>());
        Assert.True(KeyPermissions.Of(state, state.User("root")!, write: true).Covers([], [0]));
        Assert.False(KeyPermissions.Of(state, state.User("u")!, write: false).Covers("k"u8, []));
    }

    /// <summary>etcd's encoding: range end empty = the key alone, [0] = from the key on, else [key, end); a range whose
    /// end is at or below its key holds no key.</summary>
    private static bool InRange(byte[] k, byte[] key, byte[] end)
    {
        if (end.Length == 0)
        {
            return k.AsSpan().SequenceEqual(key);
        }

        return k.AsSpan().SequenceCompareTo(key) >= 0 && (end is [0] || k.AsSpan().SequenceCompareTo(end) < 0);
    }

    private static byte[] Key(Random rng, bool allowEmpty)
    {
        var length = rng.Next(allowEmpty ? 0 : 1, 3);
        return Enumerable.Range(0, length).Select(_ => Alphabet[rng.Next(1, Alphabet.Length)]).ToArray();
    }

    /// <summary>Empty (one key), [0] (to the end), or a bound.</summary>
    private static byte[] RangeEnd(Random rng) => rng.Next(4) switch
    {
        0 => [],
        1 => [0],
        _ => Key(rng, allowEmpty: false),
    };

    private static IEnumerable<byte[]> Strings(int maxLength)
    {
        IEnumerable<byte[]> level = [[]];
        var all = new List<byte[]>(level);
        for (var n = 1; n <= maxLength; n++)
        {
            level = level.SelectMany(s => Alphabet.Select(b => (byte[])[.. s, b])).ToList();
            all.AddRange(level);
        }

        return all;
    }

    private static string Show(byte[] b) => b.Length == 0 ? "\"\"" : string.Concat(b.Select(x => x == 0 ? "\\0" : ((char)x).ToString()));
}
