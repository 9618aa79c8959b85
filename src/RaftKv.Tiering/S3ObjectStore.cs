using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using RaftKv.Storage;

namespace RaftKv.Tiering;

/// <summary>
/// <see cref="IObjectStore"/> on AWSSDK.S3 for MinIO, Ceph RGW and AWS: path-style addressing,
/// checksums only when required (non-AWS endpoints reject the SDK's default trailers), SDK retries
/// with backoff for transient errors, per-request timeouts, multipart uploads for large files and
/// a CRC32C of the content kept as object metadata and verified after every upload.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    public const string CrcMetadata = "x-amz-meta-raftkv-crc32c";

    private readonly AmazonS3Client _client;
    private readonly TieringOptions _options;

    public S3ObjectStore(TieringOptions options)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ServiceURL = options.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = options.MaxRetries,
            Timeout = options.RequestTimeout,
            RetryMode = RequestRetryMode.Standard,
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public long BytesFetched => Interlocked.Read(ref _bytesFetched);

    /// <summary>What the last calls said (read by any thread; each finished call replaces the record whole).</summary>
    public ObjectStoreStatus Status => Volatile.Read(ref _status);

    private ObjectStoreStatus _status = new(null, null, null, null);

    public string Bucket => _options.Bucket;

    private long _bytesFetched;

    public Task EnsureBucketAsync(CancellationToken cancellationToken = default) => GuardAsync("create bucket", async () =>
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        return true;
    });

    public Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken = default) => GuardAsync("upload " + key, async () =>
    {
        var length = new FileInfo(localPath).Length;
        var crc = await FileCrc.ComputeAsync(localPath, cancellationToken).ConfigureAwait(false);
        var crcText = crc.ToString(CultureInfo.InvariantCulture);
        if (length <= _options.MultipartThresholdBytes)
        {
            var put = new PutObjectRequest { BucketName = _options.Bucket, Key = key, FilePath = localPath };
            put.Metadata.Add(CrcMetadata, crcText);
            await _client.PutObjectAsync(put, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await MultipartAsync(key, localPath, length, crcText, cancellationToken).ConfigureAwait(false);
        }

        var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (head is null || head.Size != length || head.Crc32C != crc)
        {
            throw new IOException($"upload of '{key}' did not verify (size {head?.Size} vs {length}, crc {head?.Crc32C} vs {crc})");
        }

        return true;
    });

    private async Task MultipartAsync(string key, string localPath, long length, string crc, CancellationToken cancellationToken)
    {
        var init = new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key };
        init.Metadata.Add(CrcMetadata, crc);
        var upload = await _client.InitiateMultipartUploadAsync(init, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var number = 1;
            for (long offset = 0; offset < length; offset += _options.PartSizeBytes, number++)
            {
                var size = Math.Min(_options.PartSizeBytes, length - offset);
                var part = await _client.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = _options.Bucket,
                        Key = key,
                        UploadId = upload.UploadId,
                        PartNumber = number,
                        FilePath = localPath,
                        FilePosition = offset,
                        PartSize = size,
                    },
                    cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(number, part.ETag));
            }

            await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = upload.UploadId, PartETags = parts },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = upload.UploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public Task ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => GuardAsync("read " + key, async () =>
    {
        if (buffer.Length == 0)
        {
            return true;
        }

        using var response = await _client.GetObjectAsync(
            new GetObjectRequest { BucketName = _options.Bucket, Key = key, ByteRange = new ByteRange(offset, offset + buffer.Length - 1) },
            cancellationToken).ConfigureAwait(false);
        await response.ResponseStream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _bytesFetched, buffer.Length);
        return true;
    });

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => GuardAsync("head " + key, () => HeadInAsync(_options.Bucket, key, cancellationToken));

    private async Task<ObjectInfo?> HeadInAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var m = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            var crcText = m.Metadata[CrcMetadata];
            uint? crc = uint.TryParse(crcText, NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : null;
            return new ObjectInfo(key, m.ContentLength, m.LastModified ?? DateTime.UtcNow, crc);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => GuardAsync("delete " + key, async () =>
    {
        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task CopyFromAsync(string sourceBucket, string sourceKey, string key, CancellationToken cancellationToken = default) => GuardAsync("copy " + sourceKey, async () =>
    {
        var source = await HeadInAsync(sourceBucket, sourceKey, cancellationToken).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"object '{sourceKey}' does not exist in bucket '{sourceBucket}'");
        await _client.CopyObjectAsync(
            new CopyObjectRequest { SourceBucket = sourceBucket, SourceKey = sourceKey, DestinationBucket = _options.Bucket, DestinationKey = key, MetadataDirective = S3MetadataDirective.COPY },
            cancellationToken).ConfigureAwait(false);
        var copy = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (copy is null || copy.Size != source.Size || copy.Crc32C != source.Crc32C)
        {
            throw new IOException($"copy of '{sourceKey}' to '{key}' did not verify (size {copy?.Size} vs {source.Size}, crc {copy?.Crc32C} vs {source.Crc32C})");
        }

        return true;
    });

    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default) => GuardAsync("list " + prefix, async () =>
    {
        var result = new List<ObjectInfo>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var o in response.S3Objects ?? [])
            {
                result.Add(new ObjectInfo(o.Key, o.Size ?? 0, o.LastModified ?? DateTime.UtcNow, null));
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return (IReadOnlyList<ObjectInfo>)result;
    });

    public void Dispose() => _client.Dispose();

    /// <summary>Turns transport failures into <see cref="RemoteTierUnavailableException"/> (503 at the API), and records
    /// each call's outcome in <see cref="Status"/>.</summary>
    private async Task<T> GuardAsync<T>(string what, Func<Task<T>> action)
    {
        try
        {
            var result = await action().ConfigureAwait(false);
            var s = Volatile.Read(ref _status);
            Volatile.Write(ref _status, s with { Reachable = true, LastSuccessAt = DateTimeOffset.UtcNow });
            return result;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or TimeoutException or System.Net.Sockets.SocketException
                                   || (e is TaskCanceledException && e.InnerException is TimeoutException))
        {
            var message = $"object store: {what} failed: {e.Message}";
            var s = Volatile.Read(ref _status);
            Volatile.Write(ref _status, s with { Reachable = false, LastError = message, LastErrorAt = DateTimeOffset.UtcNow });
            throw new RemoteTierUnavailableException(message, e);
        }
    }

    private Task GuardAsync(string what, Func<Task<bool>> action) => GuardAsync<bool>(what, action);
}
