using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A service's postgres connection written as file:PATH, where the file is there but empty (a secret mount that was
/// never filled in). The empty text used to parse as a connection string with nothing in it, which means libpq's
/// defaults: localhost:5432, the user's own database. A destructive command then acted on whatever runs there.
/// </summary>
public sealed class EmptyReferenceTargetTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly string _dir = Paths.TempDir("io-emptyref");

    [Theory]
    [InlineData("Stop-IdleConnections -Service production/db -IdleFor 0s -Force")]
    [InlineData("Stop-PgBackend -Service production/db -Pid 1 -Force")]
    [InlineData("Invoke-PgMaintenance -Service production/db -Force")]
    public void An_empty_file_reference_is_an_error_not_localhost(string command)
    {
        var empty = Path.Combine(_dir, "database-url");
        File.WriteAllText(empty, "\n");
        var cfg = Path.Combine(_dir, "incidentops.yml");
        File.WriteAllText(cfg, $$"""
            version: 1
            store: { path: {{Path.Combine(_dir, "store")}} }
            environments:
              production:
                services:
                  db:
                    postgres: file:{{empty}}
            """);
        var r = fx.Run($"{command} -ConfigPath '{cfg}'");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("ConfigReferenceUnresolved,", e.FullyQualifiedErrorId);
        Assert.Contains("is empty", e.ToString());
        Assert.DoesNotContain("localhost", e.ToString());
        Assert.Empty(r.Output);
    }

    public void Dispose() => Paths.DeleteTree(_dir);
}
