using System.Diagnostics;

namespace RaftKv.Tiering.Tests;

/// <summary>
/// A real S3 server for the test run: Ceph RADOS Gateway unpacked from Debian packages
/// (tests/s3/ensure-rgw.sh, installs on first use) and started on a free loopback port
/// (tests/s3/start-rgw.sh), stopped on dispose. Set RAFTKV_S3_ENDPOINT to use a running server instead.
/// </summary>
public sealed class RgwFixture : IDisposable
{
    private readonly string? _state;
    private readonly string? _ceph;

    public RgwFixture()
    {
        if (Environment.GetEnvironmentVariable("RAFTKV_S3_ENDPOINT") is { Length: > 0 } existing)
        {
            Endpoint = existing;
            return;
        }

        var root = FindRoot();
        var ceph = _ceph = Run("bash", Path.Combine(root, "tests", "s3", "ensure-rgw.sh"), TimeSpan.FromMinutes(10)).Trim().Split('\n')[^1];
        _state = Path.Combine(Path.GetTempPath(), "raftkv-rgw-" + Guid.NewGuid().ToString("N"));
        var port = FreePort();
        Run("bash", $"{Path.Combine(root, "tests", "s3", "start-rgw.sh")} {ceph} {_state} {port}", TimeSpan.FromMinutes(3), ("MON_PORT", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public TieringOptions Options(string bucket) => new()
    {
        Endpoint = Endpoint,
        Bucket = bucket,
        AccessKey = "testaccess",
        SecretKey = "testsecret123",
        NodePrefix = "nodes/1/",
        MaxRetries = 2,
        RequestTimeout = TimeSpan.FromSeconds(20),
        MultipartThresholdBytes = 16L << 20,
        PartSizeBytes = 5L << 20,
    };

    /// <summary>Stops the gateway process only (connections to <see cref="Endpoint"/> are refused; the
    /// objects survive in the still-running OSD): an object-store outage. Not available with RAFTKV_S3_ENDPOINT.</summary>
    public void StopGateway() => Gateway("stop");

    /// <summary>Starts the gateway again and waits until it answers.</summary>
    public void StartGateway() => Gateway("start");

    public void Dispose()
    {
        if (_state is not null)
        {
            Run("bash", $"{Path.Combine(FindRoot(), "tests", "s3", "stop-rgw.sh")} {_state}", TimeSpan.FromMinutes(1));
            try
            {
                Directory.Delete(_state, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private void Gateway(string action)
    {
        if (_state is null || _ceph is null)
        {
            throw new InvalidOperationException("the gateway of an external S3 server (RAFTKV_S3_ENDPOINT) cannot be stopped by the tests");
        }

        Run("bash", $"{Path.Combine(FindRoot(), "tests", "s3", "rgw-gateway.sh")} {action} {_ceph} {_state}", TimeSpan.FromMinutes(3));
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftKv.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
    }

    private static string Run(string file, string args, TimeSpan timeout, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in env)
        {
            psi.Environment[name] = value;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {args}' failed (exit {(p.HasExited ? p.ExitCode : -1)}): {stderr.Result}");
        }

        return stdout.Result;
    }

    private static int FreePort() => RaftKv.TestSupport.FreePorts.Next();
}

[CollectionDefinition("rgw")]
public sealed class RgwCollection : ICollectionFixture<RgwFixture>;
