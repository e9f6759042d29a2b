using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>Test-ServiceHealth's Target column: long URLs shortened in the middle, never wrapped mid-path.</summary>
public sealed class TargetTextTests
{
    [Theory]
    [InlineData(null, "https://api.example.net/health", "api.example.net/health")]
    [InlineData(null, "https://api.example.net/", "api.example.net")]
    [InlineData("production/web", "http://127.0.0.1:40123/health", "production/web\n127.0.0.1:40123/health")]
    [InlineData("production/web", "http://127.0.0.1:40123/health/ready", "production/web\n127.0.0.1:40123/…/ready")]
    [InlineData(null, "https://api.internal.example.com/v2/services/payments/health/ready", "api.internal.example.com\n/…/payments/health/ready")]
    [InlineData(null, "https://api.example.net/api/v2/internal/health/ready", "api.example.net/…/ready")]
    [InlineData(null, "https://payments-internal.svc.example.net:8443/api/health", "payments-…example.net:8443\n/api/health")]
    [InlineData(null, "https://a.example/one-very-long-last-segment-without-slashes", "a.example/…without-slashes")]
    public void A_long_target_keeps_its_host_and_last_segment_on_lines_of_the_column(string? service, string uri, string expected)
    {
        var text = TargetText.Format(service, uri);
        Assert.Equal(expected, text);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= TargetText.ColumnWidth || line == service, $"'{line}' is wider than the column"));
    }
}
