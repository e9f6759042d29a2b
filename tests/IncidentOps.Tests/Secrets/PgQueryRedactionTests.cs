using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 16 item 5: pg_stat_statements keeps utility statements as typed, passwords included.</summary>
public sealed class PgQueryRedactionTests(ModuleFixture fx, PgTestDatabase db) : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    [Fact]
    public void GetPgSlowQuery_masks_the_password_of_CREATE_ROLE()
    {
        var pw = "Pw" + Guid.NewGuid().ToString("N")[..10];
        var role = "io_pw_" + Guid.NewGuid().ToString("N")[..8];
        db.ExecAs(db.SuperRole, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        db.ExecAs(db.SuperRole, $"CREATE ROLE {role} LOGIN PASSWORD '{pw}'");
        try
        {
            var vars = new Dictionary<string, object?> { ["cs"] = db.ConnectionString(db.SuperRole) };
            var r = fx.Session.Run("Get-PgSlowQuery -ConnectionString $cs -Top 1000 | ForEach-Object { $_; $_.ToString() }", vars).AssertNoErrors();
            Assert.DoesNotContain(pw, r.AllText());
            var all = fx.Session.Run("Get-PgSlowQuery -ConnectionString $cs -Top 1000", vars).AssertNoErrors().Objects<PgSlowQuery>().ToList();
            var create = Assert.Single(all, q => q.Query!.Contains($"CREATE ROLE {role}"));
            Assert.Equal($"CREATE ROLE {role} LOGIN PASSWORD '********'", create.Query);
        }
        finally { db.ExecAs(db.SuperRole, $"DROP ROLE IF EXISTS {role}"); }
    }
}
