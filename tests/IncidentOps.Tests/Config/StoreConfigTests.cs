using IncidentOps.Config;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Config;

/// <summary>The team store's configuration (issue 13): kind, connectionString (a secret reference), schema.</summary>
public class StoreConfigTests
{
    [Fact]
    public void A_postgres_store_takes_a_connection_reference_and_a_schema_and_shows_no_credentials()
    {
        var r = ConfigParser.Parse("store:\n  kind: postgres\n  connectionString: postgres://ops:CANARYs3cret@db.internal:6432/incidents\n  schema: team_store\n", "/cfg/incidentops.yml");
        Assert.Empty(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        Assert.Equal(StoreKind.Postgres, r.Config!.Store.Kind);
        Assert.Equal("team_store", r.Config.Store.Schema);
        Assert.Equal("postgres postgres://ops:********@db.internal:6432/incidents schema team_store", r.Config.Store.ToString());
    }

    [Fact]
    public void A_schema_that_is_not_a_plain_name_is_an_error_at_its_line()
    {
        var r = ConfigParser.Parse("store:\n  kind: postgres\n  connectionString: env:X\n  schema: \"a; DROP\"\n", "/cfg/incidentops.yml");
        var error = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal("ConfigInvalidValue", error.Code);
        Assert.Equal(4, error.Line);
        Assert.Contains("store.schema", error.Message);
    }
}
