using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// AWS RDS DB instances through the aws CLI (version 2, --output json): status with Multi-AZ and pending maintenance,
/// reboot (with failover), snapshots, and restores from a snapshot or to a point in time, always into a new instance.
/// The CLI's own configuration picks the account and region (AWS_PROFILE, AWS_REGION, ~/.aws/config).
/// </summary>
public sealed partial class AwsRdsProvider : IDatabaseProvider
{
    public static readonly CliTool Aws = new("aws", "the AWS CLI version 2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)", "-AwsPath");

    /// <summary>An RDS DB instance identifier: 1 to 63 letters, digits and hyphens, starting with a letter, no '--', not ending with '-'.</summary>
    public static readonly TargetNames.Kind InstanceName = new("RDS DB instance identifier", InstancePattern(), 63,
        "1 to 63 letters, digits and hyphens, starting with a letter, without two hyphens in a row or a hyphen at the end (aws rds describe-db-instances)");

    /// <summary>An RDS snapshot identifier; automated ones carry a colon (rds:orders-db-2026-11-23-02-10).</summary>
    public static readonly TargetNames.Kind SnapshotName = new("RDS DB snapshot identifier", SnapshotPattern(), 255,
        "letters, digits, hyphens and ':' starting with a letter, as Get-AppDatabaseBackup shows it (rds:orders-db-2026-11-23-02-10, before-v12)");

    public PlatformKind Kind => PlatformKind.Aws;
    public string ConfigKey => "rds";
    public string ConfigMeaning => "the RDS DB instance identifier (aws rds describe-db-instances); the aws CLI's profile and region apply";
    public IReadOnlyList<CliTool> Tools { get; } = [Aws];
    public TargetNames.Kind NameKind => InstanceName;
    public string TargetParameter => "-DatabaseId";

    public AppDatabaseTarget Target(string name, string? service) => new() { Platform = Kind, Service = service, DatabaseId = name, Label = $"AWS RDS instance {name}" };

    public void Check(AppDatabaseTarget target)
    {
        if (string.IsNullOrEmpty(target.DatabaseId)) throw PlatformRegistry.Incomplete(this, target, "-DatabaseId (the RDS DB instance identifier from 'aws rds describe-db-instances')");
        TargetNames.Check("-DatabaseId", target.DatabaseId, NameKind);
    }

    /// <summary>The adapter, with the aws profile and region the CLI would use now (AwsAccount) pinned for every aws call of the command.</summary>
    public IDatabaseAdapter Open(AppDatabaseTarget target, ProviderContext c) =>
        new AwsRdsAdapter(target, c.Runner, c.Timeout, c.Sink, AwsAccount.Current(System.Environment.GetEnvironmentVariable));

    [GeneratedRegex("^[A-Za-z](?!.*--)[A-Za-z0-9-]*(?<!-)\\z")]
    private static partial Regex InstancePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9:-]*\\z")]
    private static partial Regex SnapshotPattern();
}
