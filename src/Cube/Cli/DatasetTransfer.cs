using System.Net.Http.Headers;
using System.Security.Cryptography;
using Cube.Core.Apis;
using Cube.DataHub.Apis;

namespace Cube.Cli;

/// <summary>A failure the CLI reports as one line and a non-zero exit, without a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>A local file to push and the dataset path it gets.</summary>
internal sealed record LocalFile(string FullPath, string DatasetPath, long Size);

/// <summary>
/// Pushes local files as a new dataset version (one upload session, resumable chunks, commit with wait) and pulls a
/// version's files back, verifying each against the manifest's sha256.
/// </summary>
internal sealed class DatasetTransfer(CubeApiClient api, CliConsole console, string dataset)
{
    /// <summary>Files from this size on go in chunks of this size, so a failed request costs at most one chunk.</summary>
    public const int ChunkSize = 8 * 1024 * 1024;

    /// <summary>
    /// The files under <paramref name="paths"/>: a file is pushed under its name, a folder's files under their path
    /// relative to the folder's parent (so pushing <c>data/images</c> gives <c>images/…</c>); <paramref name="prefix"/> goes in front.
    /// </summary>
    public static List<LocalFile> Collect(IEnumerable<string> paths, string? prefix)
    {
        var root = prefix?.Trim('/') is { Length: > 0 } p ? p + "/" : "";
        var files = new List<LocalFile>();
        foreach (var path in paths)
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            if (Directory.Exists(full))
            {
                var parent = Path.GetDirectoryName(full) ?? full;
                foreach (var file in Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
                    files.Add(new LocalFile(file, root + ToDatasetPath(Path.GetRelativePath(parent, file)), new FileInfo(file).Length));
            }
            else if (File.Exists(full)) files.Add(new LocalFile(full, root + Path.GetFileName(full), new FileInfo(full).Length));
            else throw new CliException($"No such file or folder: {path}");
        }
        var duplicate = files.GroupBy(f => f.DatasetPath, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CliException($"Two local files map to the dataset path '{duplicate.Key}': {string.Join(", ", duplicate.Select(f => f.FullPath))}.");
        if (files.Count == 0) throw new CliException("Nothing to push: the given folders are empty.");
        return [.. files.OrderBy(f => f.DatasetPath, StringComparer.Ordinal)];
    }

    private static string ToDatasetPath(string relative) =>
        Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Uploads every file in one session and commits it with wait; returns the new version's number.</summary>
    public async Task<int> PushAsync(IReadOnlyList<LocalFile> files, string? message, bool replace, int retries, CancellationToken cancellationToken)
    {
        using var opened = await api.Http.PostAsync($"{api.Dataset(dataset)}/uploads", null, cancellationToken);
        var session = (await CubeApiClient.ReadAsync<UploadSessionDto>(opened, cancellationToken)).Id;

        var total = files.Sum(f => f.Size);
        var progress = new ProgressBar(console.Error, console.ErrorIsTerminal, total);
        var buffer = new byte[(int)Math.Min(ChunkSize, Math.Max(1, files.Max(f => f.Size)))];
        long before = 0;
        foreach (var file in files)
        {
            await UploadAsync(session, file, buffer, progress, before, retries, cancellationToken);
            before += file.Size;
        }
        progress.Finish();

        using var committed = await api.Http.PostAsJsonAsync($"{api.Dataset(dataset)}/uploads/{session}/commit",
            new CommitRequest(message ?? "", replace ? "replace" : "merge", Wait: true), cancellationToken);
        var run = await CubeApiClient.ReadAsync<RunDto>(committed, cancellationToken);
        if (run.Result is not { ValueKind: System.Text.Json.JsonValueKind.Object } result || !result.TryGetProperty("number", out var number))
            throw new CliException($"The commit run {run.Id} ended '{run.State}' without a version.");
        console.Out.WriteLine($"Created {dataset} v{number.GetInt32()}: {files.Count} files, {ProgressBar.Bytes(total)} in {progress.Elapsed.TotalSeconds:0.0} s ({ProgressBar.Rate(total, progress.Elapsed)}).");
        return number.GetInt32();
    }

    private async Task UploadAsync(Guid session, LocalFile file, byte[] buffer, ProgressBar progress, long before, int retries, CancellationToken cancellationToken)
    {
        var url = $"{api.Dataset(dataset)}/uploads/{session}/files/{CubeApiClient.EscapePath(file.DatasetPath)}";
        var chunked = file.Size >= ChunkSize;
        await using var stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        long offset = 0;
        var failures = 0;
        progress.Report(before, file.DatasetPath, 0, file.Size);
        while (true)
        {
            try
            {
                var length = chunked ? (int)Math.Min(ChunkSize, file.Size - offset) : (int)file.Size;
                stream.Position = offset;
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
                using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ReadOnlyMemoryContent(buffer.AsMemory(0, length)) };
                if (chunked) request.Content.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + length - 1, file.Size);
                using var response = await api.Http.SendAsync(request, cancellationToken);
                var staged = await CubeApiClient.ReadAsync<StagedFileDto>(response, cancellationToken);
                offset = chunked ? staged.ReceivedBytes : file.Size;
                failures = 0;
                progress.Report(before + offset, file.DatasetPath, offset, file.Size);
                if (offset >= file.Size) return;
            }
            catch (ApiProblemException p) when (chunked && p.Status == 409 && p.Number("receivedBytes") is { } received)
            {
                // The server holds a different prefix than this client thought (a chunk landed but its answer was lost):
                // continue from where the server is. Counted, so a server that keeps disagreeing cannot loop forever.
                if (++failures > retries) throw;
                offset = received;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (++failures > retries) throw new CliException($"Uploading {file.DatasetPath} failed {failures} times; last error: {e.Message}");
                var delay = console.RetryDelay * Math.Pow(2, failures - 1);
                console.Error.WriteLine($"{(console.ErrorIsTerminal ? Environment.NewLine : "")}cube: {file.DatasetPath}: {e.Message}; retry {failures}/{retries} in {delay.TotalSeconds:0.#} s");
                await Task.Delay(delay, cancellationToken);
                if (chunked) offset = await ReceivedBytesAsync(session, file.DatasetPath, offset, cancellationToken);
                progress.Report(before + offset, file.DatasetPath, offset, file.Size);
            }
        }
    }

    /// <summary>Where the server is with a file, from the session; the old offset if the server cannot tell yet (the next PUT's 409 will).</summary>
    private async Task<long> ReceivedBytesAsync(Guid session, string path, long fallback, CancellationToken cancellationToken)
    {
        try
        {
            var status = await api.GetAsync<UploadSessionDto>($"{api.Dataset(dataset)}/uploads/{session}", cancellationToken);
            return status.Files.FirstOrDefault(f => f.Path == path)?.ReceivedBytes ?? 0;
        }
        catch (Exception e) when (IsTransient(e, cancellationToken))
        {
            return fallback;
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        ApiProblemException p => p.Status is >= 500 or 408 or 429,
        HttpRequestException or IOException => true,
        // HttpClient reports a dropped connection mid-request as a cancellation; the user's Ctrl+C is not transient.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Downloads every file of a version into <paramref name="output"/>; returns the version number.</summary>
    public async Task<int> PullAsync(string reference, string output, CancellationToken cancellationToken)
    {
        // Resolve the reference once: 'latest' or a tag may move while the files download, and a pull must be one version.
        var version = await api.GetAsync<VersionDto>($"{api.Dataset(dataset)}/versions/{CubeApiClient.Escape(reference)}", cancellationToken);
        var files = new List<FileDto>();
        string? cursor = null;
        do
        {
            var page = await api.GetAsync<FilePageDto>(
                $"{api.Dataset(dataset)}/versions/{version.Number}/files?limit=1000{(cursor is null ? "" : "&cursor=" + CubeApiClient.Escape(cursor))}", cancellationToken);
            files.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        // Every path is checked before the first byte is written: a hostile or broken manifest writes nothing.
        var targets = files.Select(f => (File: f, Target: SafeTarget(root, f.Path))).ToList();
        Directory.CreateDirectory(root);
        var total = files.Sum(f => f.Size);
        var progress = new ProgressBar(console.Error, console.ErrorIsTerminal, total);
        var buffer = new byte[81920];
        long before = 0;
        foreach (var (file, target) in targets)
        {
            var folder = Path.GetDirectoryName(target)!;
            // Checked before creating: creating folders through a link would already write outside.
            RefuseLinkedFolders(root, folder);
            Directory.CreateDirectory(folder);
            var partial = target + ".cube-partial";
            using var response = await api.Http.GetAsync($"{api.Dataset(dataset)}/versions/{version.Number}/files/{CubeApiClient.EscapePath(file.Path)}",
                HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await CubeApiClient.EnsureAsync(response, cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long done;
            try
            {
                await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
                done = await CopyAsync(source, partial, hash, buffer, d => progress.Report(before + d, file.Path, d, file.Size), cancellationToken);
            }
            catch
            {
                // A broken download leaves no half file behind that a later run could mistake for data.
                File.Delete(partial);
                throw;
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (done != file.Size || !string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new CliException($"{file.Path}: the download does not match the manifest (expected {file.Size} bytes with sha256 {file.Sha256}, got {done} bytes with {actual}).");
            }
            File.Move(partial, target, overwrite: true);
            before += file.Size;
        }
        progress.Finish();
        console.Out.WriteLine($"Pulled {dataset} v{version.Number}: {files.Count} files, {ProgressBar.Bytes(total)} into {root}");
        return version.Number;
    }

    /// <summary>Writes <paramref name="source"/> to <paramref name="path"/>, hashing as it goes; returns the bytes written.</summary>
    private static async Task<long> CopyAsync(Stream source, string path, IncrementalHash hash, byte[] buffer, Action<long> report, CancellationToken cancellationToken)
    {
        await using var sink = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, useAsync: true);
        long done = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await sink.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            done += read;
            report(done);
        }
        return done;
    }

    /// <summary>
    /// The local path for a dataset path, or an error when it could land outside <paramref name="root"/>. The server
    /// validates paths on upload; this is checked again because the client must not trust what it is told to write.
    /// </summary>
    public static string SafeTarget(string root, string path)
    {
        var segments = path.Split('/');
        if (path.Length == 0 || path.Contains('\\', StringComparison.Ordinal) || path.Any(char.IsControl) || Path.IsPathRooted(path)
            || segments.Any(s => s.Length == 0 || s is "." or ".."))
            throw new CliException($"Refusing to write '{path}': not a safe relative path.");
        var target = Path.GetFullPath(Path.Combine([root, .. segments]));
        if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new CliException($"Refusing to write '{path}': it resolves outside {root}.");
        return target;
    }

    /// <summary>A symbolic link inside the output folder could redirect writes elsewhere; refuse to write through one.</summary>
    private static void RefuseLinkedFolders(string root, string folder)
    {
        for (var current = folder; current.Length > root.Length; current = Path.GetDirectoryName(current)!)
            if (new DirectoryInfo(current).LinkTarget is not null)
                throw new CliException($"Refusing to write into {current}: it is a symbolic link.");
    }
}
