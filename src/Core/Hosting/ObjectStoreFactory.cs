using Cube.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
//LOGGING
using Microsoft.Extensions.Options;

namespace Cube.Core.Hosting;

internal static class ObjectStoreFactory
{
    public static IObjectStore Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        return options.IsS3
            ? throw new NotSupportedException("S3 PENDING MERGE")
            : new LocalObjectStore(options.ResolveLocalRoot(sp.GetRequiredService<IOptions<CubeOptions>>().Value));
    }
}
