namespace RaftKv.Storage;

/// <summary>Reference counts that start at 1 (the owner) and, once they reach 0, can never be revived.</summary>
internal static class RefCount
{
    /// <summary>Increments <paramref name="count"/> unless it already reached 0 (the object is released).</summary>
    public static bool TryIncrement(ref int count)
    {
        while (true)
        {
            var current = Volatile.Read(ref count);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref count, current + 1, current) == current)
            {
                return true;
            }
        }
    }
}
