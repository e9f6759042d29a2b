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
        new("unit", "the systemd unit", Required: true),
        new("host", "user@host to run systemctl and journalctl on over ssh (default: this machine)"),
        new("releases", "the releases directory with a 'current' symlink, for Invoke-Rollback"),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Systemctl, Journalctl, Ssh];
    public string TargetParameter => "-Unit";

    public ProviderConfigKey? MissingKey(ServiceTarget service) => service.Unit is null ? ConfigKeys[0] with { Example = service.Service } : null;

    public void Check(AppTarget target)
    {
        TargetNames.Check("-Unit", target.Unit, TargetNames.SystemdUnit);
        if (target.Unit is null) throw PlatformRegistry.Incomplete(target, "-Unit");
    }

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new SystemdAdapter(target, c.Runner, c.Timeout, c.Sink);
}
