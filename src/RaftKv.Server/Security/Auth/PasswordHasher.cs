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
/// <para>Record, alg 2 (<see cref="Bcrypt"/>): <c>alg:u8 hash</c>, hash = a bcrypt hash in its modular-crypt text
/// (<c>$2a$</c>/<c>$2b$</c>/<c>$2x$</c>/<c>$2y$</c>, cost, 22-character salt, 31-character digest; ASCII). Made
/// only from etcd's pre-hashed passwords (<c>hashedPassword</c> of UserAdd / UserChangePassword,
/// <see cref="FromBcrypt"/>): kept as given and verified with bcrypt at Authenticate. Costs 4-16 only (a
/// higher cost would let one hash tie up a core for minutes per Authenticate).</para>
/// </remarks>
public sealed partial class PasswordHasher(int memoryKiB = 19 * 1024, int iterations = 2, int parallelism = 1)
{
    public const byte Argon2idV13 = 1;

    /// <summary>The record's scheme byte for a bcrypt hash given by the client (etcd's hashedPassword).</summary>
    public const byte Bcrypt = 2;

    /// <summary>The highest bcrypt cost accepted (2^16 rounds: about a second or more per check).</summary>
    public const int MaxBcryptCost = 16;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>A new Argon2id record of <paramref name="password"/>; an empty password is refused
    /// (<see cref="ArgumentException"/>: a user without one is added with etcd's no_password option).</summary>
    public byte[] Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0)
        {
            throw new ArgumentException("password is empty");
        }

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

    /// <summary>
    /// The record of an etcd pre-hashed password: <paramref name="hashed"/> is a bcrypt hash, as text
    /// (<c>$2a$10$…</c>) or base64 of that text (the form etcd itself puts in its log). Throws
    /// <see cref="ArgumentException"/> for anything else, or a cost outside 4-<see cref="MaxBcryptCost"/>.
    /// </summary>
    public static byte[] FromBcrypt(string hashed)
    {
        ArgumentNullException.ThrowIfNull(hashed);
        var text = hashed.StartsWith("$2", StringComparison.Ordinal) ? hashed : FromBase64(hashed);
        if (text is null || !BcryptPattern().IsMatch(text))
        {
            throw new ArgumentException("hashed password is not a bcrypt hash ($2a$, $2b$, $2x$ or $2y$, as text or base64)");
        }

        var cost = int.Parse(text.AsSpan(4, 2), System.Globalization.CultureInfo.InvariantCulture);
        if (cost is < 4 or > MaxBcryptCost)
        {
            throw new ArgumentException($"hashed password: bcrypt cost {cost} is outside 4-{MaxBcryptCost}");
        }

        var record = new byte[1 + text.Length];
        record[0] = Bcrypt;
        Encoding.ASCII.GetBytes(text, record.AsSpan(1));
        return record;
    }

    /// <summary>The scheme of a record (<see cref="Argon2idV13"/>, <see cref="Bcrypt"/>), 0 for none.</summary>
    public static byte SchemeOf(byte[]? record) => record is { Length: > 0 } ? record[0] : (byte)0;

    /// <summary>True when <paramref name="password"/> matches <paramref name="record"/> (constant-time compare).
    /// A record this node cannot read never matches.</summary>
    public static bool Verify(string password, byte[]? record)
    {
        if (record is { Length: > 1 } && record[0] == Bcrypt)
        {
            return VerifyBcrypt(password, Encoding.ASCII.GetString(record, 1, record.Length - 1));
        }

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

    private static bool VerifyBcrypt(string password, string hash)
    {
        if (!BcryptPattern().IsMatch(hash))
        {
            return false; // BCrypt.Net throws unexpected exceptions on some malformed hashes
        }

        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (Exception e) when (e is BCrypt.Net.SaltParseException or BCrypt.Net.BcryptAuthenticationException or ArgumentException)
        {
            return false;
        }
    }

    private static string? FromBase64(string value)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(value));
            return text.StartsWith("$2", StringComparison.Ordinal) ? text : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$")]
    private static partial System.Text.RegularExpressions.Regex BcryptPattern();

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
