using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>systemd units through systemctl and journalctl, on this machine or over ssh; rollback swaps a releases symlink.</summary>
public sealed class SystemdProvider : IPlatformProvider
{
    public static readonly CliTool Systemctl = new("systemctl", "systemd's systemctl (run on a systemd host, or use -ComputerName)", "-SystemctlPath");
    public static readonly CliTool Journalctl = new("journalctl", "systemd's journalctl (run on a systemd host, or use -ComputerName)", "-JournalctlPath");
    public static readonly CliTool Ssh = new("ssh", "an OpenSSH client", "-SshPath");

    public PlatformKind Kind => PlatformKind.Systemd;
    public IReadOnlyList<string> ConfigNames { get; } = ["systemd"];
    public IReadOnlyList<ProviderConfigKey> ConfigKeys { get; } =
    [
        new("unit", "the systemd unit", ConfigKeyType.Name, TargetNames.SystemdUnit, Required: true, Parameter: SystemdOptions.UnitKey),
        new("host", "user@host to run systemctl and journalctl on over ssh (default: this machine)", ConfigKeyType.Name, TargetNames.SshHost, Parameter: SystemdOptions.ComputerNameKey),
        new("releases", "the releases directory with a 'current' symlink, for Invoke-Rollback", ConfigKeyType.Text, Parameter: SystemdOptions.ReleasesPathKey),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Systemctl, Journalctl, Ssh];
    public string TargetParameter => "-Unit";


    public void Check(AppTarget target) => SystemdOptions.Of(target).Check(target);

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new SystemdAdapter(target, c.Runner, c.Timeout, c.Sink);

    public string TargetName(AppTarget target) => SystemdOptions.Of(target).Unit ?? "";

    public string DescribeTarget(AppTarget target)
    {
        var o = SystemdOptions.Of(target);
        return $"systemd unit {o.Unit}{(o.ComputerName is null ? "" : " on " + o.ComputerName)}";
    }

    /// <summary>systemctl and journalctl; ssh is how they reach a host, not an action of its own.</summary>
    public IReadOnlyList<string> ActionClis { get; } = ["systemctl", "journalctl"];

    /// <summary>On a service with a host:, the tool runs there through ssh -o BatchMode=yes.</summary>
    public CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args) =>
        SystemdOptions.Of(AppTargets.ServiceOptions(service)).ComputerName is not { } host ? new CliCommand(tool, tool, args)
            : new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", host, string.Join(" ", new[] { tool }.Concat(args.Select(CliCommand.Quote)))]);
}
