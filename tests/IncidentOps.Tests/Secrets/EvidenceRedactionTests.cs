using IncidentOps.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 18 item 20: query text captured as evidence ('token: ...', PASSWORD '...') is masked by its shape.</summary>
public class EvidenceRedactionTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task Pg_activity_evidence_masks_tokens_and_passwords_inside_running_queries()
    {
        var canary = "Cn" + Guid.NewGuid().ToString("N")[..12];
        var app = "io-evid-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Paths.TempDir("io-evid");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"""
            version: 1
            environments:
              production:
                services:
                  db:
                    postgres: '{TestServers.PostgresConnectionString}'
            store:
              path: '{Path.Combine(dir, "store")}'
            """);
        await using var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { ApplicationName = app, Pooling = false }.ConnectionString);
        await session.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT pg_sleep(30), 'token: {canary}' AS t, 'postgres://app:{canary}@db/x' AS u", session);
        using var stop = new CancellationTokenSource();
        var running = cmd.ExecuteNonQueryAsync(stop.Token);
        try
        {
            await using (var admin = new NpgsqlConnection(TestServers.PostgresConnectionString))
            {
                await admin.OpenAsync();
                for (var i = 0; i < 100; i++)
                {
                    await using var q = new NpgsqlCommand($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'active'", admin);
                    if ((long)(await q.ExecuteScalarAsync())! > 0) break;
                    await Task.Delay(50);
                }
            }
            var r = fx.Run($$"""
                $c = '{{config}}'
                New-Incident -Title 'db slow' -Severity P2 -Service production/db -ConfigPath $c | Out-Null
                Save-IncidentEvidence -Source pg-activity -TimeoutSec 20 -ConfigPath $c
                """).AssertNoErrors();
            var capture = Assert.Single(r.Objects<EvidenceCapture>(), c => c.Succeeded);
            var text = File.ReadAllText(capture.Path!);
            Assert.Contains(app, text);
            Assert.Contains("token: ********", text);
            Assert.Contains("postgres://app:********@db/x", text);
            Assert.DoesNotContain(canary, text);
            Assert.DoesNotContain(canary, r.AllText());
        }
        finally
        {
            stop.Cancel();
            try { await running; } catch (Exception) { }
        }
    }
}
