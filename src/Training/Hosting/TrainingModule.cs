using Cube.Core.Data;
using Cube.Core.Runs;
using Cube.Training.Apis;
using Cube.Training.Data;
using Cube.Training.Execution;
using Cube.Training.Jobs;
using Cube.Training.Kubernetes;
using Cube.Training.MlNet;
using Cube.Training.Registry;
using Cube.Training.Search;
using Cube.Training.Tracking;
using k8s;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Training.Hosting;

/// <summary>Composition of the Training module: services in <see cref="AddTraining"/>, endpoints in <see cref="MapTraining"/>.</summary>
public static class TrainingModule
{
    public static IHostApplicationBuilder AddTraining(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddModuleDbContext<TrainingDbContext, SqliteTrainingDbContext, PostgresTrainingDbContext>("training");
        // Before the local executor: built-in ML.NET jobs are local jobs that this executor claims by their spec.
        services.AddSingleton<ITrainingExecutor, MlNetExecutor>();
        services.AddSingleton<ITrainingExecutor, LocalExecutor>();
        // The Kubernetes executor is there only when a cluster is configured; otherwise cluster jobs are refused at submission.
        var kube = builder.Configuration.GetSection(TrainingOptions.SectionName).GetSection("Kubernetes");
        if (!string.IsNullOrEmpty(kube["Kubeconfig"]) || !string.IsNullOrEmpty(kube["Host"]) || KubernetesClientConfiguration.IsInCluster())
        {
            services.AddSingleton<ITrainingExecutor>(sp =>
            {
                var options = sp.GetRequiredService<IOptions<TrainingOptions>>().Value.Kubernetes;
                var config = options.Host is { Length: > 0 } host ? new KubernetesClientConfiguration { Host = host }
                    : options.Kubeconfig is { Length: > 0 } path ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path, options.Context)
                    : KubernetesClientConfiguration.InClusterConfig();
                var client = new Lazy<IKubernetes>(() => new k8s.Kubernetes(config));
                return new KubernetesExecutor(() => new KubernetesClientApi(client.Value), options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<KubernetesExecutor>>());
            });
        }
        services.AddScoped<JobService>();
        services.AddScoped<ModelRegistry>();
        services.AddScoped<StudyService>();
        services.AddHostedService<StudyScheduler>();
        services.AddSingleton<IRunHandler, TrainingJobHandler>();
        // Running jobs report with their own token, accepted by the tracking endpoint only.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, JobTokenAuthenticationHandler>(JobTokens.Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(JobTokens.Policy, p => p.AddAuthenticationSchemes(JobTokens.Scheme).RequireClaim(JobTokens.JobClaim));
        return builder;
    }

    public static IEndpointRouteBuilder MapTraining(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapJobsApi().MapStudiesApi().MapModelsApi().MapQuotaApi().MapTrackingApi();
}
