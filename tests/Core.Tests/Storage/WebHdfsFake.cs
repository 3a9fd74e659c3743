using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cube.Core.Tests.Storage;

/// <summary>
/// A WebHDFS server in the test process, on a random loopback port, keeping its files in a temporary directory.
/// It answers the documented REST shapes: the namenode under <c>/webhdfs/v1</c> redirects CREATE and OPEN (307, or
/// 200 with <c>{"Location"}</c> under <c>noredirect=true</c>) to a datanode under <c>/datanode/webhdfs/v1</c>, which
/// takes and serves the bytes; failures are <c>RemoteException</c> JSON with HDFS's status codes and exception names.
/// Every request is recorded, and failures can be queued per operation.
/// </summary>
internal sealed class WebHdfsFake : IAsyncDisposable
{
    private const string NamenodePrefix = "/webhdfs/v1";
    private const string DatanodePrefix = "/datanode/webhdfs/v1";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(int Status, string ContentType, string Body)>> _failures = new(StringComparer.Ordinal);
    private readonly string? _requiredUser;
    private readonly string? _validToken;

    private WebHdfsFake(WebApplication app, string data, string? requiredUser, string? validToken)
    {
        _app = app;
        DataDirectory = data;
        _requiredUser = requiredUser;
        _validToken = validToken;
    }

    /// <summary>Where the fake keeps HDFS's files: HDFS path <c>/a/b</c> is <c>{DataDirectory}/a/b</c>.</summary>
    public string DataDirectory { get; }

    /// <summary>The namenode's base URL, as <c>Cube:Storage:WebHdfs:Url</c> takes it.</summary>
    public string Url { get; private set; } = "";

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Base URL the namenode redirects to instead of its own datanode, e.g. one nobody listens on.</summary>
    public string? DatanodeUrl { get; set; }

    /// <summary>Ignore <c>renameoptions</c> and answer RENAME as FileSystem.rename does, like HttpFS.</summary>
    public bool LegacyRename { get; set; }

    /// <summary>Called with the running byte count while a datanode CREATE body arrives.</summary>
    public Action<long>? OnDatanodeBytes { get; set; }

    /// <param name="requiredUser">When set, any other <c>user.name</c> gets AccessControlException.</param>
    /// <param name="validToken">When set, a <c>delegation</c> parameter must equal it (InvalidToken otherwise).</param>
    public static async Task<WebHdfsFake> StartAsync(string? requiredUser = null, string? validToken = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "cube-webhdfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Limits.MaxRequestBodySize = null; // datanodes take files of any size
        });
        var app = builder.Build();
        var fake = new WebHdfsFake(app, data, requiredUser, validToken);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return fake;
    }

    /// <summary>The next namenode request for <paramref name="op"/> fails with this RemoteException.</summary>
    public void FailNext(string op, int status, string exception, string javaClassName, string message) =>
        FailNextRaw(op, status, "application/json", RemoteExceptionJson(exception, javaClassName, message));

    /// <summary>The next namenode request for <paramref name="op"/> gets this body, e.g. a proxy's HTML error page.</summary>
    public void FailNextRaw(string op, int status, string contentType, string body) =>
        _failures.GetOrAdd(op, _ => new()).Enqueue((status, contentType, body));

    public string LocalPath(string hdfsPath) => Path.Combine(DataDirectory, hdfsPath.TrimStart('/'));

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Request.Path.Value ?? "";
        var datanode = raw.StartsWith(DatanodePrefix, StringComparison.Ordinal);
        if (!datanode && !raw.StartsWith(NamenodePrefix, StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("<html><body>Not a WebHDFS path</body></html>");
            return;
        }
        var path = raw[(datanode ? DatanodePrefix : NamenodePrefix).Length..];
        if (path.Length == 0) path = "/";
        var query = context.Request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var op = query.GetValueOrDefault("op", "").ToUpperInvariant();
        var bodyBytes = 0L;
        if (!(datanode && op == "CREATE")) bodyBytes = await DrainAsync(context.Request.Body);
        var chunked = context.Request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);
        var record = new FakeRequest(datanode ? "datanode" : "namenode", context.Request.Method, path, query, chunked, context.Request.ContentLength, bodyBytes);

        if (Authenticate(query) is { } denied)
        {
            _requests.Enqueue(record);
            await denied(context);
            return;
        }
        if (LocalPathOrError(path) is not { } local)
        {
            _requests.Enqueue(record);
            await Remote(context, 400, "InvalidPathException", "org.apache.hadoop.fs.InvalidPathException", $"Invalid path name Invalid file name: {path}");
            return;
        }
        if (datanode)
        {
            if (op == "CREATE" && context.Request.Method == "PUT")
            {
                var written = await DatanodeCreateAsync(context, path, local, query);
                _requests.Enqueue(record with { BodyBytes = written });
                return;
            }
            _requests.Enqueue(record);
            if (op == "OPEN" && context.Request.Method == "GET") await DatanodeOpenAsync(context, path, local, query);
            else await Remote(context, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", $"Invalid operation {op}");
            return;
        }

        _requests.Enqueue(record);
        if (_failures.TryGetValue(op, out var queued) && queued.TryDequeue(out var failure))
        {
            context.Response.StatusCode = failure.Status;
            context.Response.ContentType = failure.ContentType;
            await context.Response.WriteAsync(failure.Body);
            return;
        }
        // With permissions on, resolving a path through a file fails the traverse check before anything else.
        if (op is "GETFILESTATUS" or "LISTSTATUS" or "OPEN" && FileAncestor(local, includeSelf: false) is { } blocking)
        {
            await Remote(context, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", $"{HdfsPath(blocking)} (is not a directory)");
            return;
        }
        await ((context.Request.Method, op) switch
        {
            ("GET", "GETFILESTATUS") => GetFileStatus(context, path, local),
            ("GET", "LISTSTATUS") => ListStatus(context, path, local),
            ("GET", "OPEN") => Redirect(context, path, local, query, mustExist: true),
            ("PUT", "CREATE") => Redirect(context, path, local, query, mustExist: false),
            ("PUT", "MKDIRS") => Mkdirs(context, path, local),
            ("PUT", "RENAME") => Rename(context, path, local, query),
            ("DELETE", "DELETE") => Delete(context, path, local, query),
            var (method, _) => Remote(context, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException",
                $"Invalid value for webhdfs parameter \"op\": No enum constant org.apache.hadoop.hdfs.web.resources.{Capitalize(method)}OpParam.Op.{op}"),
        });
    }

    private Func<HttpContext, Task>? Authenticate(Dictionary<string, string> query)
    {
        if (query.TryGetValue("delegation", out var token))
        {
            return _validToken is not null && token == _validToken
                ? null
                : c => Remote(c, 403, "InvalidToken", "org.apache.hadoop.security.token.SecretManager$InvalidToken", "token (HDFS_DELEGATION_TOKEN token 17 for cube) can't be found in cache");
        }
        var user = query.GetValueOrDefault("user.name", "dr.who");
        if (_requiredUser is null || user == _requiredUser) return null;
        return c => Remote(c, 403, "AccessControlException", "org.apache.hadoop.security.AccessControlException",
            $"Permission denied: user={user}, access=WRITE, inode=\"/\":hdfs:supergroup:drwxr-xr-x");
    }

    private Task GetFileStatus(HttpContext context, string path, string local)
    {
        if (!File.Exists(local) && !Directory.Exists(local))
            return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File does not exist: {path}");
        return Json(context, 200, new Dictionary<string, object> { ["FileStatus"] = Status(local, "") });
    }

    private Task ListStatus(HttpContext context, string path, string local)
    {
        List<Dictionary<string, object>> entries;
        if (File.Exists(local)) entries = [Status(local, "")];
        else if (Directory.Exists(local))
        {
            // HDFS keeps children sorted by their UTF-8 bytes compared as signed: non-ASCII names come before ASCII ones.
            entries = [.. new DirectoryInfo(local).EnumerateFileSystemInfos()
                .OrderBy(i => Encoding.UTF8.GetBytes(i.Name), SignedBytesComparer.Instance)
                .Select(i => Status(i.FullName, i.Name))];
        }
        else return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File {path} does not exist.");
        return Json(context, 200, new Dictionary<string, object> { ["FileStatuses"] = new Dictionary<string, object> { ["FileStatus"] = entries } });
    }

    private Task Redirect(HttpContext context, string path, string local, Dictionary<string, string> query, bool mustExist)
    {
        if (mustExist && Directory.Exists(local))
            return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"Path is not a file: {path}");
        if (mustExist && !File.Exists(local))
            return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File does not exist: {path}");
        var forwarded = query.Where(p => p.Key != "noredirect")
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))
            .Append(new("namenoderpcaddress", "fake-namenode:8020"));
        var location = (DatanodeUrl ?? Url) + DatanodePrefix + EscapePath(path) + QueryString.Create(forwarded);
        if (query.GetValueOrDefault("noredirect") == "true")
            return Json(context, 200, new Dictionary<string, object> { ["Location"] = location });
        context.Response.StatusCode = 307;
        context.Response.Headers.Location = location;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private Task Mkdirs(HttpContext context, string path, string local)
    {
        if (FileAncestor(local, includeSelf: true) is { } file)
            return Remote(context, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", $"Path is not a directory: {HdfsPath(file)}");
        Directory.CreateDirectory(local);
        return Json(context, 200, new Dictionary<string, object> { ["boolean"] = true });
    }

    private Task Rename(HttpContext context, string path, string local, Dictionary<string, string> query)
    {
        if (query.GetValueOrDefault("destination") is not { Length: > 0 } destination)
            return Remote(context, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", "Required param destination for op: RENAME is null or empty");
        if (LocalPathOrError(destination) is not { } target)
            return Remote(context, 400, "InvalidPathException", "org.apache.hadoop.fs.InvalidPathException", $"Invalid path name Invalid file name: {destination}");
        var options = LegacyRename ? "" : query.GetValueOrDefault("renameoptions", "");
        var sourceIsFile = File.Exists(local);
        var sourceExists = sourceIsFile || Directory.Exists(local);
        var parent = Path.GetDirectoryName(target)!;

        if (options.Length == 0)
        {
            // FileSystem.rename: false instead of errors, and a folder destination receives the source inside it.
            if (!sourceExists || !Directory.Exists(parent)) return Boolean(context, false);
            if (Directory.Exists(target)) target = Path.Combine(target, Path.GetFileName(local));
            if (File.Exists(target) || Directory.Exists(target)) return Boolean(context, false);
            Move(local, target, sourceIsFile, overwrite: false);
            return Boolean(context, true);
        }

        var flags = options.Split(',');
        if (flags.Any(f => f is not ("NONE" or "OVERWRITE" or "TO_TRASH")))
            return Remote(context, 400, "IllegalArgumentException", "java.lang.IllegalArgumentException", $"Invalid value for webhdfs parameter \"renameoptions\": {options}");
        // FileContext.rename (rename2): errors say what is wrong; OVERWRITE replaces a file or an empty folder of the same kind.
        if (!sourceExists) return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"rename source {path} is not found.");
        if (File.Exists(parent)) return Remote(context, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", $"rename destination parent {HdfsPath(parent)} is a file.");
        if (!Directory.Exists(parent)) return Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"rename destination parent {HdfsPath(parent)} not found.");
        var targetIsFile = File.Exists(target);
        if (targetIsFile || Directory.Exists(target))
        {
            if (!flags.Contains("OVERWRITE"))
                return Remote(context, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", $"rename destination {destination} already exists.");
            if (targetIsFile != sourceIsFile)
                return Remote(context, 403, "IOException", "java.io.IOException", $"Source {path} and destination {destination} must both be {(sourceIsFile ? "files" : "directories")}");
            if (!targetIsFile && Directory.EnumerateFileSystemEntries(target).Any())
                return Remote(context, 403, "IOException", "java.io.IOException", $"rename destination directory is not empty: {destination}");
        }
        Move(local, target, sourceIsFile, overwrite: true);
        context.Response.ContentType = "application/octet-stream";
        return Task.CompletedTask;
    }

    private Task Delete(HttpContext context, string path, string local, Dictionary<string, string> query)
    {
        if (File.Exists(local))
        {
            File.Delete(local);
            return Boolean(context, true);
        }
        if (!Directory.Exists(local)) return Boolean(context, false);
        var recursive = query.GetValueOrDefault("recursive") == "true";
        if (!recursive && Directory.EnumerateFileSystemEntries(local).Any())
            return Remote(context, 403, "PathIsNotEmptyDirectoryException", "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", $"`{path} is non empty': Directory is not empty");
        Directory.Delete(local, recursive);
        return Boolean(context, true);
    }

    private async Task<long> DatanodeCreateAsync(HttpContext context, string path, string local, Dictionary<string, string> query)
    {
        if (Directory.Exists(local))
        {
            await Remote(context, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", $"{path} already exists as a directory");
            return 0;
        }
        if (File.Exists(local) && query.GetValueOrDefault("overwrite") != "true")
        {
            await Remote(context, 403, "FileAlreadyExistsException", "org.apache.hadoop.fs.FileAlreadyExistsException", $"{path} for client 127.0.0.1 already exists");
            return 0;
        }
        if (FileAncestor(Path.GetDirectoryName(local)!, includeSelf: true) is { } file)
        {
            await Remote(context, 403, "ParentNotDirectoryException", "org.apache.hadoop.fs.ParentNotDirectoryException", $"Parent path is not a directory: {HdfsPath(file)}");
            return 0;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        long total = 0;
        // Written in place as it arrives, as HDFS does: a file under construction is visible at its path.
        await using (var output = new FileStream(local, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
        {
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n));
                total += n;
                OnDatanodeBytes?.Invoke(total);
            }
        }
        context.Response.StatusCode = 201;
        context.Response.Headers.Location = "hdfs://fake-namenode:8020" + EscapePath(path);
        context.Response.ContentLength = 0;
        return total;
    }

    private static async Task DatanodeOpenAsync(HttpContext context, string path, string local, Dictionary<string, string> query)
    {
        if (!File.Exists(local))
        {
            await Remote(context, 404, "FileNotFoundException", "java.io.FileNotFoundException", $"File does not exist: {path}");
            return;
        }
        await using var input = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
        var offset = long.Parse(query.GetValueOrDefault("offset", "0"), CultureInfo.InvariantCulture);
        if (offset > input.Length)
        {
            await Remote(context, 403, "IOException", "java.io.IOException", $"Offset={offset} out of the range [0, {input.Length}); OPEN, path={path}");
            return;
        }
        var length = input.Length - offset;
        if (query.TryGetValue("length", out var requested)) length = Math.Min(length, long.Parse(requested, CultureInfo.InvariantCulture));
        input.Seek(offset, SeekOrigin.Begin);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = length;
        var buffer = new byte[1 << 16];
        while (length > 0)
        {
            var n = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)));
            if (n == 0) break;
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, n));
            length -= n;
        }
    }

    private Dictionary<string, object> Status(string local, string suffix)
    {
        var isFile = File.Exists(local);
        var info = isFile ? (FileSystemInfo)new FileInfo(local) : new DirectoryInfo(local);
        return new Dictionary<string, object>
        {
            ["accessTime"] = isFile ? new DateTimeOffset(info.LastAccessTimeUtc).ToUnixTimeMilliseconds() : 0,
            ["blockSize"] = isFile ? 134217728 : 0,
            ["childrenNum"] = isFile ? 0 : Directory.EnumerateFileSystemEntries(local).Count(),
            ["fileId"] = 16386,
            ["group"] = "supergroup",
            ["length"] = isFile ? ((FileInfo)info).Length : 0,
            ["modificationTime"] = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds(),
            ["owner"] = _requiredUser ?? "hdfs",
            ["pathSuffix"] = suffix,
            ["permission"] = isFile ? "644" : "755",
            ["replication"] = isFile ? 3 : 0,
            ["storagePolicy"] = 0,
            ["type"] = isFile ? "FILE" : "DIRECTORY",
        };
    }

    /// <summary>The local path for an HDFS path, or null when HDFS would refuse the name (DFSUtil.isValidName).</summary>
    private string? LocalPathOrError(string hdfsPath)
    {
        if (!hdfsPath.StartsWith('/')) return null;
        var segments = hdfsPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s is "." or ".." || s.Contains(':', StringComparison.Ordinal))) return null;
        return segments.Length == 0 ? DataDirectory : Path.Combine([DataDirectory, .. segments]);
    }

    private string? FileAncestor(string local, bool includeSelf)
    {
        for (var current = includeSelf ? local : Path.GetDirectoryName(local); current is not null && current.Length > DataDirectory.Length; current = Path.GetDirectoryName(current))
        {
            if (File.Exists(current)) return current;
        }
        return null;
    }

    private string HdfsPath(string local) => "/" + Path.GetRelativePath(DataDirectory, local).Replace(Path.DirectorySeparatorChar, '/');

    private static void Move(string source, string target, bool isFile, bool overwrite)
    {
        if (isFile) File.Move(source, target, overwrite);
        else
        {
            if (overwrite && Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(source, target);
        }
    }

    private static async Task<long> DrainAsync(Stream body)
    {
        var buffer = new byte[8192];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0) total += n;
        return total;
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static string Capitalize(string method) => method[..1] + method[1..].ToLowerInvariant();

    private static Task Boolean(HttpContext context, bool value) =>
        Json(context, 200, new Dictionary<string, object> { ["boolean"] = value });

    private static Task Remote(HttpContext context, int status, string exception, string javaClassName, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(RemoteExceptionJson(exception, javaClassName, message));
    }

    private static string RemoteExceptionJson(string exception, string javaClassName, string message) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["RemoteException"] = new Dictionary<string, string> { ["exception"] = exception, ["javaClassName"] = javaClassName, ["message"] = message },
        });

    private static Task Json(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a test's reader; the temp directory is reclaimed by the OS.
        }
    }

    private sealed class SignedBytesComparer : IComparer<byte[]>
    {
        public static readonly SignedBytesComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y)
        {
            var a = x ?? [];
            var b = y ?? [];
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var diff = (sbyte)a[i] - (sbyte)b[i];
                if (diff != 0) return diff;
            }
            return a.Length - b.Length;
        }
    }
}

/// <summary>One request the fake received: which node, the decoded path and query, and how the body came.</summary>
internal sealed record FakeRequest(string Node, string Method, string Path, IReadOnlyDictionary<string, string> Query, bool Chunked, long? ContentLength, long BodyBytes)
{
    public string Op => Query.GetValueOrDefault("op", "");
}
