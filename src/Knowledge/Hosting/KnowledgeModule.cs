using Cube.Core.Data;
using Cube.Core.Runs;
using Cube.Knowledge.Apis;
using Cube.Knowledge.Chat;
using Cube.Knowledge.Data;
using Cube.Knowledge.Embeddings;
using Cube.Knowledge.Indexing;
using Cube.Knowledge.Ingestion;
using Cube.Knowledge.Retrieval;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Knowledge.Hosting;

/// <summary>Composition of the Knowledge module: services in <see cref="AddKnowledge"/>, endpoints in <see cref="MapKnowledge"/>.</summary>
public static class KnowledgeModule
{
    public static IHostApplicationBuilder AddKnowledge(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KnowledgeOptions>().BindConfiguration(KnowledgeOptions.SectionName).ValidateDataAnnotations()
            // Data annotations do not recurse into nested option objects; these two bound the vector search's work per query.
            .Validate(o => o.Index.Vectors.ExactBelow >= 0, "Cube:Knowledge:Index:Vectors:ExactBelow must not be negative.")
            .Validate(o => o.Index.Vectors.RescoreFactor is >= 1 and <= 100, "Cube:Knowledge:Index:Vectors:RescoreFactor must be between 1 and 100.")
            .ValidateOnStart();
        services.AddModuleDbContext<KnowledgeDbContext, SqliteKnowledgeDbContext, PostgresKnowledgeDbContext>("knowledge");
        services.AddSingleton<KnowledgeAi>();
        services.AddSingleton<IKnowledgeIndex>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<KnowledgeOptions>>().Value.Index;
            if (options.Backend == "Elasticsearch")
                return new ElasticsearchIndex(ElasticsearchIndex.CreateClient(options.Elasticsearch), options.Elasticsearch.IndexPrefix);
            var cube = sp.GetRequiredService<IOptions<Core.CubeOptions>>().Value;
            return new EmbeddedIndex(Path.Combine(cube.DataPath, "knowledge", "index"), options.Vectors);
        });
        services.AddSingleton<IngestionPipeline>();
        services.AddSingleton<RerankerProvider>();
        services.AddScoped<Retriever>();
        services.AddScoped<ChatService>();
        services.AddSingleton<IRunHandler, IngestHandler>();
        return builder;
    }

    public static IEndpointRouteBuilder MapKnowledge(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapKnowledgeBasesApi().MapDocumentsApi().MapSearchApi().MapChatSessionsApi().MapEvaluationApi().MapOpenAiCompatibleApi();
}
