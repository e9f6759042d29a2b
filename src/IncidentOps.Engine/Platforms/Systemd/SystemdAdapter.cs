using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// systemd through systemctl show --timestamp=unix (values like @1700000000) and journalctl -o json, locally
/// or over ssh -o BatchMode=yes. Releases are directories under a root with a 'current' symlink.
/// </summary>
public sealed partial class SystemdAdapter(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    : PlatformAdapterBase(target, runner, timeout, sink), IPlatformAdapter
{
    private readonly SystemdOptions _o = SystemdOptions.Of(target);
    private string Unit => _o.Unit!;

    private CliCommand Cmd(string tool, params string[] args) => _o.ComputerName is null
        ? new CliCommand(tool, tool, args)
        : new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", _o.ComputerName, string.Join(" ", new[] { tool }.Concat(args.Select(CliCommand.Quote)))]);

    public static Dictionary<string, string> ParseShow(string text)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) d[line[..eq]] = line[(eq + 1)..].TrimEnd('\r');
        }
        return d;
    }

    /// <summary>Parses '@1700000000' (systemctl show --timestamp=unix); empty or 'n/a' is null.</summary>
    public static DateTimeOffset? ParseUnixTimestamp(string? value) =>
        value is { Length: > 1 } && value[0] == '@' && long.TryParse(value.AsSpan(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0
            ? DateTimeOffset.FromUnixTimeSeconds(s) : null;

    public async Task<AppStatus> GetStatusAsync(CancellationToken ct)
    {
        var cmd = Cmd("systemctl", "show", Unit, "--timestamp=unix", "--no-pager");
        var p = ParseShow(await RunTextAsync(cmd, ct).ConfigureAwait(false));
        if (!p.TryGetValue("ActiveState", out var active)) throw Invalid(cmd, "ActiveState", "is missing");
        p.TryGetValue("SubState", out var sub);
        p.TryGetValue("Result", out var result);
        if (p.TryGetValue("LoadState", out var load) && load == "not-found")
            throw new IncidentOpsException(PlatformErrorIds.AppNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"The unit '{Unit}' does not exist{(_o.ComputerName is null ? "" : " on " + _o.ComputerName)} (LoadState=not-found).") { TargetObject = Unit };
        var restarts = p.TryGetValue("NRestarts", out var nr) && int.TryParse(nr, out var n) ? n : 0;
        var state = active switch
        {
            "active" when sub is "running" or "exited" => AppState.Healthy,
            "active" or "activating" or "reloading" or "deactivating" => AppState.Degraded,
            "failed" or "inactive" => AppState.Down,
            _ => AppState.Unknown,
        };
        var exitReason = result is null or "success" ? null : result == "oom-kill" ? "OOMKilled" : result;
        var version = _o.ComputerName is null ? CurrentRelease() : await RemoteCurrentReleaseAsync(ct).ConfigureAwait(false);
        return new AppStatus
        {
            Platform = PlatformKind.Systemd, Name = Unit, Service = Target.Service, Unit = Unit, ComputerName = _o.ComputerName,
            State = state, Reason = state == AppState.Healthy ? null : (active == sub ? active : $"{active}/{sub}") + (exitReason is null ? "" : $" ({exitReason})"),
            DesiredInstances = 1, ReadyInstances = state == AppState.Healthy ? 1 : 0, Version = version,
            LastDeployedAt = ParseUnixTimestamp(p.GetValueOrDefault("ActiveEnterTimestamp")) ?? ParseUnixTimestamp(p.GetValueOrDefault("ExecMainStartTimestamp")),
            Instances =
            [
                new AppInstance
                {
                    Id = p.GetValueOrDefault("MainPID") ?? "0", State = sub ?? active, Region = _o.ComputerName ?? System.Environment.MachineName,
                    Restarts = restarts, LastExitReason = exitReason, Ready = state == AppState.Healthy, Version = version,
                },
            ],
        };
    }

    // ---------------------------------------------------------------- releases

    private string Releases => _o.ReleasesPath ?? throw new IncidentOpsException(PlatformErrorIds.ReleasesPathMissing, IncidentOpsErrorCategory.InvalidArgument,
        $"No releases directory for unit '{Unit}': set 'releases:' on the service in incidentops.yml or pass -ReleasesPath.");

    /// <summary>
    /// A remote releases root must be absolute (it is the remote host's path) and is quoted for the remote shell.
    /// </summary>
    private string RemoteRoot()
    {
        var root = Releases.TrimEnd('/');
        if (!Releases.StartsWith('/') || root.Contains('\n') || root.Contains('\0'))
            throw new IncidentOpsException(PlatformErrorIds.ReleasesPathInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"The releases path '{Releases}' on {_o.ComputerName} must be an absolute path (for example /srv/{Unit}/releases).") { TargetObject = Releases };
        return root.Length == 0 ? "/" : root;
    }

    /// <summary>
    /// One remote command lists the release directories (name, FAILED marker, mtime, first line of REVISION) and
    /// reads the 'current' link. Every path is single-quoted for the remote shell; release names are only ever
    /// expanded inside double quotes, so a hostile directory name cannot run anything.
    /// </summary>
    internal CliCommand RemoteListCommand()
    {
        var root = CliCommand.Quote(RemoteRoot());
        var script =
            $"cd -- {root} || exit 66; for d in */; do d=\"${{d%/}}\"; [ -d \"$d\" ] && [ ! -L \"$d\" ] || continue; " +
            "f=0; { [ -e \"$d/FAILED\" ] || [ -e \"$d/.failed\" ]; } && f=1; " +
            "t=$(stat -c %Y -- \"$d\" 2>/dev/null || echo 0); " +
            "r=$(head -n 1 -- \"$d/REVISION\" 2>/dev/null | tr -d '\\t\\r'); " +
            "printf 'R\\t%s\\t%s\\t%s\\t%s\\n' \"$d\" \"$f\" \"$t\" \"$r\"; done; " +
            "printf 'C\\t%s\\n' \"$(readlink -- current)\"";
        return new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", _o.ComputerName!, script]);
    }

    /// <summary>Parses the remote listing: "R\tname\tfailed\tmtime\trevision" lines and one "C\tlink target" line.</summary>
    internal IReadOnlyList<AppDeployment> ParseRemoteList(CliCommand cmd, string text)
    {
        string? current = null;
        var rows = new List<(string Name, bool Failed, DateTimeOffset? Created, string? Revision)>();
        foreach (var raw in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var line = raw.TrimEnd('\r');
            var parts = line.Split('\t');
            if (parts[0] == "C" && parts.Length == 2) { current = parts[1].Length == 0 ? null : System.IO.Path.GetFileName(parts[1].TrimEnd('/')); continue; }
            if (parts[0] != "R" || parts.Length != 5 || parts[1].Length == 0)
                throw Invalid(cmd, "release line", $"'{line}' is not 'R<TAB>name<TAB>failed<TAB>mtime<TAB>revision' (a release directory name with a tab or newline is not supported)");
            if (!long.TryParse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var mtime))
                throw Invalid(cmd, $"mtime of release '{parts[1]}'", $"is '{parts[3]}', expected seconds since the epoch (stat -c %Y)");
            rows.Add((parts[1], parts[2] == "1", mtime > 0 ? DateTimeOffset.FromUnixTimeSeconds(mtime) : null, parts[4].Length == 0 ? null : parts[4]));
        }
        var root = RemoteRoot();
        var list = rows.OrderByDescending(r => r.Name, StringComparer.Ordinal).Select(r => new AppDeployment
        {
            Platform = PlatformKind.Systemd, Name = Unit, Version = r.Name,
            Status = r.Failed ? "failed" : r.Name == current ? "current" : "available",
            Succeeded = !r.Failed, CreatedAt = r.Created, Image = r.Revision, Cause = root.TrimEnd('/') + "/" + r.Name, IsCurrent = r.Name == current,
        }).ToList();
        return MarkLastGood(list);
    }

    private string? CurrentRelease()
    {
        if (_o.ReleasesPath is null || _o.ComputerName is not null) return null;
        var link = new FileInfo(System.IO.Path.Combine(_o.ReleasesPath, "current"));
        return link.LinkTarget is { } t ? System.IO.Path.GetFileName(t.TrimEnd('/')) : null;
    }

    /// <summary>The release 'current' points at on the remote host (one ssh readlink), or null without a releases path or link.</summary>
    private async Task<string?> RemoteCurrentReleaseAsync(CancellationToken ct)
    {
        if (_o.ReleasesPath is null) return null;
        var link = CliCommand.Quote(RemoteRoot().TrimEnd('/') + "/current");
        var cmd = new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", _o.ComputerName!, $"readlink -- {link} || true"]);
        var target = (await RunTextAsync(cmd, ct).ConfigureAwait(false)).Trim();
        return target.Length == 0 ? null : System.IO.Path.GetFileName(target.TrimEnd('/'));
    }

    public async Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken ct)
    {
        if (_o.ComputerName is not null)
        {
            var cmd = RemoteListCommand();
            return ParseRemoteList(cmd, await RunTextAsync(cmd, ct).ConfigureAwait(false));
        }
        if (!Directory.Exists(Releases))
            throw new IncidentOpsException(PlatformErrorIds.ReleasesPathMissing, IncidentOpsErrorCategory.ObjectNotFound, $"The releases directory '{Releases}' does not exist.") { TargetObject = Releases };
        var current = CurrentRelease();
        var list = new DirectoryInfo(Releases).GetDirectories()
            .Where(d => d.Name != "current" && d.LinkTarget is null)
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .Select(d =>
            {
                // A deploy script marks a release that failed its checks with a FAILED file; such a release is never a rollback target.
                var failed = File.Exists(System.IO.Path.Combine(d.FullName, "FAILED")) || File.Exists(System.IO.Path.Combine(d.FullName, ".failed"));
                var revision = System.IO.Path.Combine(d.FullName, "REVISION");
                return new AppDeployment
                {
                    Platform = PlatformKind.Systemd, Name = Unit, Version = d.Name, Status = failed ? "failed" : d.Name == current ? "current" : "available",
                    Succeeded = !failed, CreatedAt = d.CreationTimeUtc, Image = File.Exists(revision) ? File.ReadAllText(revision).Trim() : null,
                    Cause = d.FullName, IsCurrent = d.Name == current,
                };
            }).ToList();
        return MarkLastGood(list);
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        var restart = Cmd("systemctl", "restart", Unit);
        // What the swap expects 'current' to name: the release the listing found linked (none when 'current' was no link).
        var expected = from is { IsCurrent: true } ? from.Version : null;
        if (_o.ComputerName is not null)
        {
            // The name came from the remote listing: refuse anything that is not a plain directory name before it reaches a command.
            if (to.Version is "." or ".." || to.Version.Contains('/') || to.Version.Contains('\n') || to.Version.Contains('\0'))
                throw new IncidentOpsException(PlatformErrorIds.RollbackTargetNotFound, IncidentOpsErrorCategory.InvalidData, $"'{to.Version}' is not a release directory name.") { TargetObject = to.Version };
            var swap = RemoteSwapCommand(expected, to.Version);
            var remotePlan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [swap.CommandLine, restart.CommandLine] };
            return new PreparedRollback(remotePlan, async c =>
            {
                var swapped = await Runner.RunAsync(swap, Timeout, c, throwOnError: false).ConfigureAwait(false);
                if (swapped.ExitCode == CurrentChangedExit)
                {
                    // The remote check found another release in 'current' at the moment of the swap: nothing was swapped or restarted.
                    var now = swapped.StandardOutput.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith("CURRENT\t", StringComparison.Ordinal))?[8..];
                    throw RollbackChoice.CurrentChanged(Target, expected, to.Version, now);
                }
                if (swapped.ExitCode != 0) throw ProcessRunner.Failed(swap, swapped);
                await RestartAfterSwapAsync(restart, expected, to.Version, c).ConfigureAwait(false);
                return [swap.CommandLine, restart.CommandLine];
            });
        }
        var link = System.IO.Path.Combine(Releases, "current");
        var targetDir = System.IO.Path.Combine(Releases, to.Version);
        var repoint = $"[ \"$(basename -- \"$(readlink -- {CliCommand.Quote(link)})\")\" = {CliCommand.Quote(expected ?? "")} ] && ln -s {CliCommand.Quote(targetDir)} {CliCommand.Quote(link + ".tmp")} && mv -T {CliCommand.Quote(link + ".tmp")} {CliCommand.Quote(link)}";
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [repoint, restart.CommandLine] };
        return new PreparedRollback(plan, async c =>
        {
            if (!SwapSymlink(link, targetDir, expected, out var now)) throw RollbackChoice.CurrentChanged(Target, expected, to.Version, now);
            await RestartAfterSwapAsync(restart, expected, to.Version, c).ConfigureAwait(false);
            return [repoint, restart.CommandLine];
        });
    }

    /// <summary>The restart after the swap; when it fails, the error says 'current' already names the target (RollbackFailed, half done).</summary>
    private async Task RestartAfterSwapAsync(CliCommand restart, string? from, string to, CancellationToken ct)
    {
        try { await RunAsync(restart, ct).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformCommandTimedOut)
        {
            throw RollbackChoice.HalfDone(Target, from, to, $"'current' now points at {to}", $"restarting {Unit}", ex,
                $"{Unit} still runs the release it started with until it restarts: fix what the restart reported and run Restart-App (systemctl restart {Unit}).");
        }
    }

    /// <summary>The exit code of the remote swap when 'current' is not the release the rollback started from (EX_TEMPFAIL).</summary>
    internal const int CurrentChangedExit = 75;

    /// <summary>
    /// The remote swap, a compare-and-swap in the remote shell: 'current' must still name <paramref name="from"/> (the
    /// release the user confirmed) when it is checked on the host, once before the new link is made and again right
    /// before the rename; otherwise it prints "CURRENT&lt;TAB&gt;name" and exits 75 with nothing swapped. Without it, a
    /// deploy landing in the ssh round trip between the cmdlet's last read and the swap was silently replaced by the older
    /// release. The rename itself (mv -T, rename(2)) replaces the link in one step; POSIX has no compare-and-swap of a
    /// symlink, so the check right before it, on the host, leaves no window a network round trip could fall into.
    /// </summary>
    internal CliCommand RemoteSwapCommand(string? from, string to)
    {
        var root = RemoteRoot().TrimEnd('/');
        string Q(string path) => CliCommand.Quote(path);
        var current = Q(root + "/current");
        var tmp = Q(root + "/.current.tmp");
        var script =
            $"check() {{ c=$(readlink -- {current}); c=${{c%/}}; c=${{c##*/}}; [ \"$c\" = {Q(from ?? "")} ] && return 0; rm -f -- {tmp}; printf 'CURRENT\\t%s\\n' \"$c\"; exit {CurrentChangedExit}; }}; " +
            $"check; ln -sfn -- {Q(root + "/" + to)} {tmp} || exit 1; check; mv -Tf -- {tmp} {current}";
        return new CliCommand("ssh", "ssh", ["-o", "BatchMode=yes", "--", _o.ComputerName!, script]);
    }

    /// <summary>
    /// Points 'current' at the release atomically (a new symlink renamed over the old one: rename(2) replaces it in one
    /// step), but only while 'current' still names <paramref name="expected"/> (null: no link), checked right before the
    /// rename; otherwise false with what it names now, and nothing changed.
    /// </summary>
    public static bool SwapSymlink(string link, string targetDir, string? expected, out string? now)
    {
        var tmp = link + ".tmp-" + System.Environment.ProcessId;
        now = LinkName(link);
        if (!string.Equals(now ?? "", expected ?? "", StringComparison.Ordinal)) return false;
        if (File.Exists(tmp) || new FileInfo(tmp).LinkTarget is not null) File.Delete(tmp);
        File.CreateSymbolicLink(tmp, targetDir);
        now = LinkName(link);
        if (!string.Equals(now ?? "", expected ?? "", StringComparison.Ordinal))
        {
            File.Delete(tmp);
            return false;
        }
        if (rename(tmp, link) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            File.Delete(tmp);
            throw new IncidentOpsException(PlatformErrorIds.RollbackFailed, IncidentOpsErrorCategory.WriteError, $"Could not repoint '{link}' to '{targetDir}' (rename failed, errno {errno}). Check permissions on the releases directory.");
        }
        return true;
    }

    /// <summary>The release a 'current' link names (its target's last segment), or null when there is no link.</summary>
    private static string? LinkName(string link) =>
        new FileInfo(link).LinkTarget is { } t ? System.IO.Path.GetFileName(t.TrimEnd('/')) : null;

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code enabled in this assembly; one call does not justify that.
    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
#pragma warning restore SYSLIB1054

    // ---------------------------------------------------------------- changes

    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken ct)
    {
        var cmd = Cmd("systemctl", "show", Unit, "-p", "Environment", "--no-pager");
        var p = ParseShow(await RunTextAsync(cmd, ct).ConfigureAwait(false));
        var env = p.GetValueOrDefault("Environment") ?? "";
        return env.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv =>
        {
            var eq = kv.IndexOf('=');
            return new AppSetting { Platform = PlatformKind.Systemd, Name = Unit, Key = eq > 0 ? kv[..eq] : kv, Value = eq > 0 ? kv[(eq + 1)..] : "" };
        }).ToList();
    }

    public PlannedChange PlanRestart(string? instance, bool wait) => instance is not null
        ? NotSupported($"Restart-App -Pod is not supported for systemd unit '{Unit}': a unit runs one main process. Omit -Pod to restart the unit (systemctl restart {Unit}).")
        : Change(Cmd("systemctl", "restart", Unit));

    public PlannedChange PlanScale(int? count, string? size) =>
        NotSupported($"Set-AppScale is not supported for systemd unit '{Unit}': a unit runs one main process. Add hosts or units instead.");

    public PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret) =>
        NotSupported($"Set-AppSetting is not supported for systemd unit '{Unit}': edit its EnvironmentFile or drop-in (systemctl edit {Unit}) and restart it.");
}
