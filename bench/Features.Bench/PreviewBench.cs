// Preview (debug mode) through the real server, as the pipeline page calls it: the issue asks for under 2 s on a
// 10k-row sample. A Cube server runs in this process on its embedded defaults (SQLite, local disk); the benchmark's
// sources are uploaded as a dataset version, the benchmark's pipeline is saved, and POST .../preview is timed from the
// client (HTTP, authorisation, resolving inputs, reading the sample from the table version, fitting on it, running
// every step, rendering first rows), cold once and then warm.
extern alias server;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.DataHub.Apis;
using Cube.Features.Apis;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Cube.Features.Bench;

internal static class PreviewBench
{
    private const string Admin = "admin";
    private const string Password = "admin-password-for-the-bench";

    public static async Task RunAsync(int rows, int sample, int repeats)
    {
        var directory = Directory.CreateTempSubdirectory("cube-features-preview-").FullName;
        try
        {
            var users = Math.Max(1, Math.Min(1_000_000, rows / 10));
            var (events, profiles) = ParquetBench.WriteSources(directory, rows, users);
            await using var server = new Server(Path.Combine(directory, "data"));
            using var http = server.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = false });
            await Ensure(await http.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(Admin, Password)));
            const string project = "bench";
            await Ensure(await http.PostAsJsonAsync("/api/projects", new CreateProjectRequest(project, "Bench", null)));
            await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest("bench", "benchmark sources", "tabular", null)));
            var upload = Stopwatch.StartNew();
            var session = (await (await Ensure(await http.PostAsync($"/api/projects/{project}/datasets/bench/uploads", null))).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
            foreach (var file in new[] { events, profiles })
            {
                await using var content = File.OpenRead(file);
                await Ensure(await http.PutAsync($"/api/projects/{project}/datasets/bench/uploads/{session}/files/{Path.GetFileName(file)}", new StreamContent(content)));
            }
            await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/datasets/bench/uploads/{session}/commit", new CommitRequest("sources", "merge", true)));
            Console.WriteLine($"Preview of the Parquet benchmark's pipeline on a {sample:N0}-row sample, through the API of a Cube server in this process (SQLite, local disk)");
            Console.WriteLine($"  sources: {rows:N0} events, {2 * users:N0} profile rows, uploaded and committed as one version in {upload.Elapsed.TotalSeconds:F1} s");

            var spec = ParquetBench.SpecTemplate.Replace("ONEHOT", "int64", StringComparison.Ordinal);
            await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/features/pipelines", new PipelineRequest("bench", spec)));
            var times = new List<double>();
            JsonElement report = default;
            for (var i = 0; i <= repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                var response = await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/features/pipelines/bench/preview", new PreviewRequest(null, sample, 5)));
                report = await response.Content.ReadFromJsonAsync<JsonElement>();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"  cold (first call: code paths compiled, files opened): {times[0],8:F0} ms");
            var warm = times.Skip(1).Order().ToList();
            if (warm.Count > 0)
                Console.WriteLine($"  warm, {warm.Count} calls: median {warm[warm.Count / 2],6:F0} ms, slowest {warm[^1],6:F0} ms  (goal < 2,000 ms: ratio {warm[^1] / 2000:F2})");
            Console.WriteLine($"  last call, as the server measured it: {report.GetProperty("milliseconds").GetDouble():F0} ms; per step:");
            foreach (var step in report.GetProperty("steps").EnumerateArray())
                Console.WriteLine($"    {step.GetProperty("name").GetString(),-8} {step.GetProperty("op").GetString(),-10} {step.GetProperty("rows").GetInt64(),8:N0} rows  {step.GetProperty("milliseconds").GetDouble(),7:F1} ms  {step.GetProperty("schema").GetArrayLength(),3} columns");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> Ensure(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>The Cube server on its embedded defaults, over a data directory of its own, with the admin the bench signs in as.</summary>
    private sealed class Server(string data) : WebApplicationFactory<server::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            // The bench's own output folder: the factory would otherwise look for the app's sources beside the solution.
            builder.UseContentRoot(AppContext.BaseDirectory);
            builder.UseSetting("Cube:DataDirectory", data);
            builder.UseSetting("Cube:Admin:Password", Password);
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        }
    }
}
