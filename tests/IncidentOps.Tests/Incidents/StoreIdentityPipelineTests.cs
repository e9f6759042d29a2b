using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A piped incident is changed only in the store it came from (PipelineTargetMismatch otherwise), and "the same store"
/// is what the servers and the file system say, not the text of two configurations. Before, Host=127.0.0.1 and
/// Host=localhost (one database) were refused, and so were a store folder reached through a symbolic link or written
/// relative to the configuration. Two schemas of one database stay two stores. Real PostgreSQL; real folders.
/// </summary>
public sealed class StoreIdentityPipelineTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void Two_addresses_of_one_database_are_one_team_store_and_two_schemas_are_two()
    {
        var dir = Paths.TempDir("io-storeid");
        var schema = $"sid_{Guid.NewGuid():N}"[..16];
        var other = $"sid_{Guid.NewGuid():N}"[..16];
        var ip = "IO_SID_IP_" + Guid.NewGuid().ToString("N")[..8];
        var name = "IO_SID_NAME_" + Guid.NewGuid().ToString("N")[..8];
        var cs = TestServers.PostgresConnectionString;
        Assert.Contains("Host=127.0.0.1", cs);
        Environment.SetEnvironmentVariable(ip, cs);
        Environment.SetEnvironmentVariable(name, cs.Replace("Host=127.0.0.1", "Host=localhost", StringComparison.Ordinal));
        try
        {
            string Config(string file, string variable, string s)
            {
                var path = Path.Combine(dir, file + ".yml");
                File.WriteAllText(path, $"store: {{ kind: postgres, connectionString: 'env:{variable}', schema: {s}, path: '{Path.Combine(dir, file)}' }}\n");
                return path;
            }
            var byIp = Config("by-ip", ip, schema);
            var byName = Config("by-name", name, schema);
            var otherSchema = Config("other", name, other);
            fx.Run($"Initialize-IncidentStore -ConfigPath '{byIp}' -Confirm:$false; Initialize-IncidentStore -ConfigPath '{otherSchema}' -Confirm:$false").AssertNoErrors();
            var id = fx.Run($"New-Incident -ConfigPath '{byIp}' -Title 'Checkout errors' -Severity P2").AssertNoErrors().Single<Incident>().Id;
            // The other schema gets an incident of the same id: a change resolved in the wrong store would land silently.
            Assert.Equal(id, fx.Run($"New-Incident -ConfigPath '{otherSchema}' -Title 'Unrelated' -Severity P3").AssertNoErrors().Single<Incident>().Id);

            var changed = fx.Run($"Get-Incident -Id {id} -ConfigPath '{byIp}' | Set-Incident -Impact 'Checkout failing' -ConfigPath '{byName}' -PassThru").AssertNoErrors().Single<Incident>();
            Assert.Equal("Checkout failing", changed.Impact);
            Assert.Equal("Checkout failing", fx.Run($"(Get-Incident -Id {id} -ConfigPath '{byIp}').Impact").AssertNoErrors().Output.Single()?.ToString());

            var refused = fx.Run($"Get-Incident -Id {id} -ConfigPath '{byName}' | Set-Incident -Impact 'wrong store' -ConfigPath '{otherSchema}'");
            var e = Assert.Single(refused.Errors);
            Assert.StartsWith("PipelineTargetMismatch,", e.FullyQualifiedErrorId);
            Assert.Contains("different databases", e.ToString());
            Assert.Equal("", fx.Run($"\"$((Get-Incident -Id {id} -ConfigPath '{otherSchema}').Impact)\"").AssertNoErrors().Output.Single()?.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(ip, null);
            Environment.SetEnvironmentVariable(name, null);
            PgStores.Drop(schema);
            PgStores.Drop(other);
            Paths.DeleteTree(dir);
        }
    }

    [Fact]
    public void A_store_folder_through_a_symbolic_link_or_a_relative_path_is_one_store_with_one_pointer()
    {
        var dir = Paths.TempDir("io-storeid-files");
        var real = Path.Combine(dir, "real", "store");
        Directory.CreateDirectory(real);
        var link = Path.Combine(dir, "linked");
        Directory.CreateSymbolicLink(link, Path.Combine(dir, "real"));
        var direct = Path.Combine(dir, "direct.yml");
        File.WriteAllText(direct, $"store: {{ path: '{real}' }}\n");
        var viaLink = Path.Combine(dir, "via-link.yml");
        File.WriteAllText(viaLink, $"store: {{ path: '{Path.Combine(link, "store")}/' }}\n");
        var relative = Path.Combine(dir, "real", "relative.yml");
        File.WriteAllText(relative, "store: { path: ./store }\n");
        try
        {
            var incident = fx.Run($"New-Incident -ConfigPath '{viaLink}' -Title 'Disk full' -Severity P2").AssertNoErrors().Single<Incident>();
            Assert.Equal(real, incident.IncidentStore);
            // One folder, one pointer, whichever spelling set it.
            Assert.Equal(incident.Id, fx.Run($"(Get-Incident -Active -ConfigPath '{relative}').Id").AssertNoErrors().Output.Single()?.ToString());
            fx.Run($"Get-Incident -Id {incident.Id} -ConfigPath '{direct}' | Set-Incident -Impact 'Uploads failing' -ConfigPath '{viaLink}' | Out-Null").AssertNoErrors();
            fx.Run($"Get-Incident -Id {incident.Id} -ConfigPath '{viaLink}' | Add-IncidentNote 'freed 20 GB' -ConfigPath '{relative}' | Out-Null").AssertNoErrors();
            var timeline = fx.Run($"Get-IncidentTimeline -Incident {incident.Id} -ConfigPath '{direct}'").AssertNoErrors().Objects<TimelineEntry>().ToList();
            Assert.Contains(timeline, t => t.Kind == "note");
            Assert.Contains(timeline, t => t.Result?.Contains("Uploads failing", StringComparison.Ordinal) == true);
            Assert.False(Directory.Exists(Path.Combine(dir, "linked", "store", "store")));
        }
        finally { Paths.DeleteTree(dir); }
    }
}
