using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// Argon2id password hashes (RFC 9106), made by the node that receives a password, before anything is
/// proposed: the Raft log and snapshots carry only the record below, never a password.
/// </summary>
/// <remarks>
/// Hash record, version 1 (opaque to the state machine, which stores it in 48-byte chunks):
/// <c>alg:u8 (1 = Argon2id v1.3) memoryKiB:u32le iterations:u8 parallelism:u8 saltLength:u8 salt hash</c>
/// (hash = the rest, 32 bytes). The parameters travel with each hash, so raising them later re-hashes
/// only on the next password change and old hashes still verify. Defaults: 19 MiB, 2 passes, 1 lane
/// (OWASP's Argon2id minimum), 16-byte random salt per hash.
/// </remarks>
public sealed class PasswordHasher(int memoryKiB = 19 * 1024, int iterations = 2, int parallelism = 1)
{
    public const byte Argon2idV13 = 1;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public byte[] Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Compute(password, salt, memoryKiB, iterations, parallelism, HashBytes);
        var record = new byte[1 + 4 + 1 + 1 + 1 + SaltBytes + HashBytes];
        record[0] = Argon2idV13;
        BitConverter.TryWriteBytes(record.AsSpan(1, 4), memoryKiB);
        record[5] = (byte)iterations;
        record[6] = (byte)parallelism;
        record[7] = SaltBytes;
        salt.CopyTo(record, 8);
        hash.CopyTo(record, 8 + SaltBytes);
        return record;
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="record"/> (constant-time compare).
    /// A record this node cannot read never matches.</summary>
    public static bool Verify(string password, byte[]? record)
    {
        if (record is null || record.Length < 9 || record[0] != Argon2idV13)
        {
            return false;
        }

        var memory = BitConverter.ToInt32(record, 1);
        int passes = record[5], lanes = record[6], saltLength = record[7];
        if (memory is < 8 or > (1 << 22) || passes == 0 || lanes == 0 || record.Length <= 8 + saltLength)
        {
            return false;
        }

        var salt = record.AsSpan(8, saltLength).ToArray();
        var expected = record.AsSpan(8 + saltLength);
        var actual = Compute(password, salt, memory, passes, lanes, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static byte[] Compute(string password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length)
    {
        using var argon = new Argon2id(Encoding.UTF8.GetBytes(password))
        {
            Salt = salt,
            MemorySize = memoryKiB,
            Iterations = iterations,
            DegreeOfParallelism = parallelism,
        };
        return argon.GetBytes(length);
    }
}
