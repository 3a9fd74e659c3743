using System.ComponentModel.DataAnnotations;
using Cube.Core.Net;

namespace Cube.Core.Webhooks;

/// <summary>Webhook delivery (section <c>Cube:Webhooks</c>). Receivers on internal networks must be allow-listed here.</summary>
public sealed class WebhookOptions : OutboundAllowList
{
    public const string SectionName = "Cube:Webhooks";

    /// <summary>Attempts before a delivery is marked failed (the first included).</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait before the second attempt; doubles each time, capped at <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a receiver has to answer one delivery.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the dispatcher looks for work written by other processes or due for retry. Events of this process wake
    /// it at once.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>How long finished deliveries (and the events they carried) stay visible and can be redelivered.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}
