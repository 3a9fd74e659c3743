using Cube.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Core.Hosting;

internal static class ObjectStoreFactory
{
    public static IObjectStore Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (options.IsS3) return new S3ObjectStore(options.S3, sp.GetRequiredService<ILogger<S3ObjectStore>>());
        if (options.IsWebHdfs) return new WebHdfsObjectStore(options.WebHdfs, sp.GetRequiredService<ILogger<WebHdfsObjectStore>>(), sp.GetService<TimeProvider>());
        return new LocalObjectStore(options.ResolveLocalRoot(sp.GetRequiredService<IOptions<CubeOptions>>().Value));
    }
}
