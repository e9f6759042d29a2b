using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

[CollectionDefinition(nameof(AwsEnvironment), DisableParallelization = true)]
public sealed class AwsEnvironment;

/// <summary>
/// The aws CLI's profile and region are pinned when an AppDatabase command starts and stamped on its objects (Account):
/// RDS identifiers are per account and region, so an instance read with one profile and piped after AWS_PROFILE changed
/// named another instance with the same identifier. Process-wide variables, so these run alone, each with its own
/// aws config file and no AWS_* setting of the machine.
/// </summary>
[Collection(nameof(AwsEnvironment))]
public sealed class AwsAccountTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private const string Db = "fastapi-db";
    private static readonly string[] Names = ["AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"];
    private readonly Dictionary<string, string?> _saved = Names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
    private readonly string _config = Path.Combine(Paths.TempDir("aws-home"), "config");

    public void Dispose() { foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v); }

    private (FakeCli Cli, string Path) Setup()
    {
        File.WriteAllText(_config, "[default]\nregion = eu-west-1\n\n[profile prod]\nregion = us-east-1\n\n[profile staging]\nregion = us-east-1\n");
        foreach (var n in Names) Environment.SetEnvironmentVariable(n, null);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", _config);
        Environment.SetEnvironmentVariable("AWS_PROFILE", "prod");
        var cli = new FakeCli();
        return (cli, cli.Tool("aws",
            new Reply($"rds describe-db-instances --db-instance-identifier {Db}", "aws-rds-describe-db-instances.json"),
            new Reply("rds describe-pending-maintenance-actions", "aws-rds-pending-maintenance.json"),
            new Reply($"rds reboot-db-instance --db-instance-identifier {Db}", "aws-rds-reboot-db-instance.json")));
    }

    [Fact]
    public void A_piped_instance_read_with_one_aws_profile_is_not_rebooted_with_another()
    {
        var (cli, aws) = Setup();
        var r = fx.Run($"""
            $db = Get-AppDatabase -Platform Aws -DatabaseId {Db} -AwsPath '{aws}'
            $env:AWS_PROFILE = 'staging'
            $db | Restart-AppDatabase -AwsPath '{aws}' -Force
            """);

        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.RestartAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("was read with aws profile 'prod', region 'us-east-1', but this command runs with aws profile 'staging', region 'us-east-1'", e.ToString());
        Assert.Empty(r.Objects<AppActionResult>());
        Assert.DoesNotContain(cli.Calls, c => c.Contains("reboot-db-instance", StringComparison.Ordinal));
        Assert.All(cli.Calls, c => Assert.EndsWith(" --output json --no-cli-pager --profile prod --region us-east-1", c));
    }

    [Fact]
    public void Every_aws_call_gets_the_profile_and_region_the_command_started_with_and_a_piped_instance_of_the_same_is_rebooted()
    {
        var (cli, aws) = Setup();
        var db = fx.Run($"Get-AppDatabase -Platform Aws -DatabaseId {Db} -AwsPath '{aws}'").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal("aws profile 'prod', region 'us-east-1'", db.Account);
        var r = fx.Run($"Get-AppDatabase -Platform Aws -DatabaseId {Db} -AwsPath '{aws}' | Restart-AppDatabase -AwsPath '{aws}' -Force").AssertNoErrors();
        Assert.True(r.Single<AppActionResult>().Succeeded);
        Assert.Contains($"aws rds reboot-db-instance --db-instance-identifier {Db} --output json --no-cli-pager --profile prod --region us-east-1", cli.Calls);
        // AWS_REGION wins over the profile's region, as in the aws CLI.
        Environment.SetEnvironmentVariable("AWS_REGION", "ca-central-1");
        Assert.Equal("aws profile 'prod', region 'ca-central-1'", fx.Run($"Get-AppDatabase -Platform Aws -DatabaseId {Db} -AwsPath '{aws}'").AssertNoErrors().Single<AppDatabase>().Account);
    }
}
