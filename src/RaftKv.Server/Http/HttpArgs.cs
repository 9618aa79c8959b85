using System.Globalization;

namespace RaftKv.Server.Http;

/// <summary>
/// Query-string arguments of the HTTP routes, parsed with errors that name the argument and what it must be
/// (<see cref="ArgumentException"/>, answered 400 <c>invalid_argument</c>) — not ASP.NET's binding message
/// ("Failed to bind parameter "Nullable&lt;long&gt; target" from "abc""), which names a C# type instead.
/// </summary>
public static class HttpArgs
{
    /// <summary>An integer argument, or null when absent; <paramref name="what"/> says what it is (e.g. "a member id").</summary>
    public static long? Long(HttpRequest request, string name, string what, long min = long.MinValue)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue(name, out var raw))
        {
            return null;
        }

        var s = raw.ToString();
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new ArgumentException($"{name} must be {what}, got '{s}'");
    }

    /// <summary>A member id argument (the decimal id <c>/cluster/members</c> lists), or null when absent.</summary>
    public static long? MemberId(HttpRequest request, string name) => Long(request, name, "a member id (the decimal id /cluster/members lists)", 0);

    /// <summary>A boolean flag: <c>true</c>/<c>false</c> (any case), <c>1</c>/<c>0</c>; null when absent.</summary>
    public static bool? Flag(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue(name, out var raw))
        {
            return null;
        }

        return raw.ToString().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            var other => throw new ArgumentException($"{name} must be true or false, got '{other}'"),
        };
    }
}
