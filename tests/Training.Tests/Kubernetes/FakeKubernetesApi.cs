using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cube.Training.Tests.Kubernetes;

/// <summary>
/// An in-process HTTP server (Kestrel on loopback) answering the Kubernetes REST calls the executor makes with the
/// documented shapes: create (201, or 409 with a Status), list with fieldSelector and a collection resourceVersion,
/// watch as a stream of newline-delimited events (and an ERROR event with a 410 Status when asked), pod lists, pod
/// logs, delete. It records every request for assertions.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _objects = new();
    private readonly TaskCompletionSource _logsServed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, bool> _logsRequested = new();
    private long _resourceVersion = 100;
    private int _watches;

    private FakeKubernetesApi(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public ConcurrentQueue<(string Method, string Path, string Query, string Body)> Requests { get; } = new();
    /// <summary>Status objects the primary goes through, one per watch event.</summary>
    public List<JsonObject> StatusScript { get; set; } = [];
    /// <summary>The first watch answers with an ERROR event carrying a 410 Status (resourceVersion too old).</summary>
    public bool GoneOnFirstWatch { get; set; }
    /// <summary>After the script, keep the watch open until the client goes away (for cancellation tests).</summary>
    public bool HoldWatchOpen { get; set; }
    /// <summary>Pods of the job (by name) and the log lines each prints; they are listed once the primary object exists.</summary>
    public Dictionary<string, string[]> PodLogs { get; set; } = [];
    public string? AlreadyExists { get; set; }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeKubernetesApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.Url = app.Urls.First();
        return fake;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public IEnumerable<JsonObject> Stored => _objects.Values;

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value!;
        var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        Requests.Enqueue((http.Request.Method, path, http.Request.QueryString.Value ?? "", body));
        var segments = path.Trim('/').Split('/');
        // /api/v1/namespaces/{ns}/{plural}[/{name}[/log]] or /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]
        var offset = segments[0] == "api" ? 2 : 3;
        if (segments.Length < offset + 3 || segments[offset] != "namespaces")
        {
            await StatusAsync(http, 404, "NotFound", $"no route {path}");
            return;
        }
        var collection = "/" + string.Join('/', segments[..(offset + 3)]);
        var name = segments.Length > offset + 3 ? segments[offset + 3] : null;
        var plural = segments[offset + 2];

        switch (http.Request.Method)
        {
            case "POST" when name is null:
                var obj = JsonNode.Parse(body)!.AsObject();
                var objName = (string)obj["metadata"]!["name"]!;
                if (objName == AlreadyExists || !_objects.TryAdd(collection + "/" + objName, obj))
                {
                    await StatusAsync(http, 409, "AlreadyExists", $"{plural} \"{objName}\" already exists");
                    return;
                }
                obj["metadata"]!["resourceVersion"] = Next();
                http.Response.StatusCode = 201;
                await http.Response.WriteAsync(obj.ToJsonString());
                return;
            case "DELETE" when name is not null:
                if (!_objects.TryRemove(collection + "/" + name, out var deleted))
                {
                    await StatusAsync(http, 404, "NotFound", $"{plural} \"{name}\" not found");
                    return;
                }
                // With background propagation the API answers 200 with the object as it was deleted.
                await WriteJsonAsync(http, deleted);
                return;
            case "GET" when plural == "pods" && name is null:
                await WriteJsonAsync(http, new JsonObject
                {
                    ["kind"] = "PodList",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Next() },
                    ["items"] = new JsonArray(_objects.IsEmpty ? [] : PodLogs.Keys.Select(p => (JsonNode)new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["name"] = p, ["namespace"] = segments[offset + 1] },
                        ["status"] = new JsonObject { ["phase"] = "Running" },
                    }).ToArray()),
                });
                return;
            case "GET" when plural == "pods" && segments.Length == offset + 5 && segments[^1] == "log":
                if (http.Request.Query["follow"] != "true" || http.Request.Query["container"] != "pytorch")
                {
                    await StatusAsync(http, 400, "BadRequest", "expected follow=true&container=pytorch");
                    return;
                }
                http.Response.ContentType = "text/plain";
                foreach (var line in PodLogs.GetValueOrDefault(name!, []))
                    await http.Response.WriteAsync(line + "\n");
                _logsRequested[name!] = true;
                if (_logsRequested.Count == PodLogs.Count) _logsServed.TrySetResult();
                return;
            case "GET" when name is null && http.Request.Query["watch"] == "true":
                await WatchAsync(http, collection);
                return;
            case "GET" when name is null:
                var selected = Select(collection, http.Request.Query["fieldSelector"]);
                await WriteJsonAsync(http, new JsonObject
                {
                    ["kind"] = "List",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Current() },
                    ["items"] = new JsonArray(selected.Select(o => (JsonNode)o.DeepClone()).ToArray()),
                });
                return;
            default:
                await StatusAsync(http, 405, "MethodNotAllowed", $"{http.Request.Method} {path}");
                return;
        }
    }

    private async Task WatchAsync(HttpContext http, string collection)
    {
        if (string.IsNullOrEmpty(http.Request.Query["resourceVersion"]))
        {
            await StatusAsync(http, 400, "BadRequest", "watch without resourceVersion");
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.StartAsync();
        if (Interlocked.Increment(ref _watches) == 1 && GoneOnFirstWatch)
        {
            await WriteEventAsync(http, "ERROR", new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = "too old resource version: 1 (100)",
                ["reason"] = "Expired",
                ["code"] = 410,
            });
            return;
        }
        var target = Select(collection, http.Request.Query["fieldSelector"]).Single();
        for (var i = 0; i < StatusScript.Count; i++)
        {
            // The last status waits until every pod's log has been read, as a real job ends after its pods printed.
            if (i == StatusScript.Count - 1 && PodLogs.Count > 0) await _logsServed.Task.WaitAsync(TimeSpan.FromSeconds(20), http.RequestAborted);
            target["status"] = StatusScript[i].DeepClone();
            target["metadata"]!["resourceVersion"] = Next();
            await WriteEventAsync(http, "MODIFIED", target);
        }
        StatusScript = [];
        if (HoldWatchOpen)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private List<JsonObject> Select(string collection, string? fieldSelector)
    {
        var name = fieldSelector is { } f && f.StartsWith("metadata.name=", StringComparison.Ordinal) ? f["metadata.name=".Length..] : null;
        return _objects.Where(o => o.Key.StartsWith(collection + "/", StringComparison.Ordinal) && (name is null || o.Key == collection + "/" + name)).Select(o => o.Value).ToList();
    }

    private string Next() => Interlocked.Increment(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);
    private string Current() => Interlocked.Read(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static async Task WriteEventAsync(HttpContext http, string type, JsonObject obj)
    {
        await http.Response.WriteAsync(new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n", Encoding.UTF8);
        await http.Response.Body.FlushAsync();
    }

    private static async Task WriteJsonAsync(HttpContext http, JsonObject body)
    {
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    private static Task StatusAsync(HttpContext http, int code, string reason, string message)
    {
        http.Response.StatusCode = code;
        return WriteJsonAsync(http, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        });
    }
}
