using System.Text;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Test executables standing in for flyctl, doctl, kubectl, systemctl, journalctl and ssh: bash scripts in a
/// temp folder that replay recorded output for argument prefixes and append their argv to a log. Tests pass
/// their paths through -FlyctlPath and friends, so the process-wide PATH is never touched.
/// </summary>
public sealed class FakeCli
{
    public string Dir { get; } = Paths.TempDir("fakecli");
    public string Log => Path.Combine(Dir, "argv.log");
    private int _n;

    /// <summary>The platforms' test folder: one folder per provider (mirroring Engine/Platforms/&lt;Provider&gt;/), each with its Fixtures/.</summary>
    public static string PlatformsFolder => Path.Combine(Paths.RepoRoot, "tests", "IncidentOps.Tests", "Platforms");

    /// <summary>
    /// A recorded output by file name, wherever its provider keeps it (Platforms/&lt;Provider&gt;/Fixtures/NAME, or the shared
    /// Platforms/Fixtures/NAME). Names are unique across providers (ProviderContractTests checks it). A rooted path (a
    /// file a test wrote) is returned as it is.
    /// </summary>
    public static string Fixture(string name)
    {
        if (Path.IsPathRooted(name)) return name;
        var found = Directory.GetDirectories(PlatformsFolder).Select(d => Path.Combine(d, "Fixtures", name)).Where(File.Exists)
            .Concat(new[] { Path.Combine(PlatformsFolder, "Fixtures", name) }.Where(File.Exists)).ToList();
        return found.Count == 1 ? found[0]
            : throw new FileNotFoundException(found.Count == 0 ? $"No fixture '{name}' under Platforms/<Provider>/Fixtures/." : $"Fixture '{name}' is in several provider folders: {string.Join(", ", found)}", name);
    }

    /// <summary>
    /// A reply for argument lists starting with Prefix. With Stream the fixture and Text are written line by line,
    /// LineDelay seconds apart (0: all at once, for tests whose bound is a -TimeoutSec on a loaded machine) (a CLI following a log), and the tool then keeps running until it is killed (its pid in
    /// NAME.pid, its sleeping child's in NAME.child), unless StreamEnds: then it exits with Exit after the last line.
    /// With Times (not streamed) the reply answers only the first Times calls it matches; later calls go on to the next
    /// reply whose prefix matches (a CLI whose answer changes: the object read again after someone changed it).
    /// </summary>
    public sealed record Reply(string Prefix, string? FixtureName = null, string? Text = null, int Exit = 0, string? Stderr = null, bool Sleep = false, bool CaptureStdin = false,
        bool Stream = false, double LineDelay = 0.02, bool StreamEnds = false, int Times = 0);

    public string Tool(string name, params Reply[] replies)
    {
        var sb = new StringBuilder("#!/bin/bash\n");
        sb.Append($"printf '%s\\n' \"{name} $*\" >> '{Log}'\n");
        sb.Append($"printf '%s\\n' \"{name} KUBECONFIG=${{KUBECONFIG-(unset)}}\" >> '{KubeconfigLog}'\n");
        sb.Append("case \"$*\" in\n");
        foreach (var r in replies)
        {
            sb.Append($"  '{r.Prefix.Replace("'", "'\\''")}'*)\n");
            if (r.CaptureStdin) sb.Append($"    cat > '{Path.Combine(Dir, name + ".stdin")}'\n");
            if (r.Sleep) sb.Append($"    echo $$ > '{Path.Combine(Dir, name + ".pid")}'; sleep 60 & echo $! > '{Path.Combine(Dir, name + ".child")}'; wait\n");
            if (r.Stream)
            {
                sb.Append($"    echo $$ > '{Path.Combine(Dir, name + ".pid")}'\n");
                var sources = new List<string>();
                if (r.FixtureName is not null) sources.Add(Fixture(r.FixtureName));
                if (r.Text is not null)
                {
                    var file = Path.Combine(Dir, $"reply{++_n}.txt");
                    File.WriteAllText(file, r.Text);
                    sources.Add(file);
                }
                var delay = r.LineDelay.ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (var src in sources)
                    sb.Append(r.LineDelay > 0
                        ? $"    while IFS= read -r line || [ -n \"$line\" ]; do printf '%s\\n' \"$line\"; sleep {delay}; done < '{src}'\n"
                        : $"    cat '{src}'\n");
                if (r.Stderr is not null) sb.Append($"    echo '{r.Stderr.Replace("'", "'\\''")}' >&2\n");
                if (!r.StreamEnds) sb.Append($"    sleep 600 & echo $! > '{Path.Combine(Dir, name + ".child")}'; wait\n");
                sb.Append($"    exit {r.Exit};;\n");
                continue;
            }
            var counter = Path.Combine(Dir, $"times{++_n}.count");
            if (r.Times > 0) sb.Append($"    n=$(cat '{counter}' 2>/dev/null || echo 0); if [ \"$n\" -lt {r.Times} ]; then echo $((n+1)) > '{counter}'\n");
            if (r.FixtureName is not null) sb.Append($"    cat '{Fixture(r.FixtureName)}'\n");
            if (r.Text is not null)
            {
                var file = Path.Combine(Dir, $"reply{++_n}.txt");
                File.WriteAllText(file, r.Text);
                sb.Append($"    cat '{file}'\n");
            }
            if (r.Stderr is not null) sb.Append($"    echo '{r.Stderr.Replace("'", "'\\''")}' >&2\n");
            sb.Append(r.Times > 0 ? $"    exit {r.Exit}; fi;;&\n" : $"    exit {r.Exit};;\n");
        }
        sb.Append("  *) echo \"fake " + name + ": unexpected arguments: $*\" >&2; exit 97;;\nesac\n");
        var path = Path.Combine(Dir, name);
        ExecutableFile.Write(path, sb.ToString());
        return path;
    }

    /// <summary>
    /// A noisy CLI following a log: it prints numbered lines (<paramref name="format"/> is a printf format whose %d is
    /// the line's number, 1, 2, 3..., and whose %s is 900 characters of padding) as fast as it can, forever, and after
    /// each line that its write returned from writes that number to NAME.written (see <see cref="Written"/>). A reader that
    /// stops reading makes its writes block, so Written minus the lines consumed is what waits in pipes and buffers.
    /// </summary>
    public string Noisy(string name, string format)
    {
        var path = Path.Combine(Dir, name);
        var written = Path.Combine(Dir, name + ".written");
        ExecutableFile.Write(path, "#!/bin/bash\n" +
            $"printf '%s\\n' \"{name} $*\" >> '{Log}'\n" +
            $"echo $$ > '{Path.Combine(Dir, name + ".pid")}'\n" +
            "pad=$(head -c 900 /dev/zero | tr '\\0' x)\n" +
            $"for ((i=1;;i++)); do printf '{format.Replace("'", "'\\''")}\\n' \"$i\" \"$pad\" || exit 0; echo \"$i\" > '{written}'; done\n");
        return path;
    }

    /// <summary>The number of lines a <see cref="Noisy"/> CLI has written so far (0 before its first).</summary>
    public int Written(string name) =>
        File.Exists(Path.Combine(Dir, name + ".written")) && int.TryParse(File.ReadAllText(Path.Combine(Dir, name + ".written")).Trim(), out var n) ? n : 0;

    /// <summary>
    /// A stand-in for ssh that behaves like ssh to a host whose login shell is sh: it records its exact argv (one
    /// &lt;arg&gt; per argument, in ArgvCalls) and runs the last argument with sh -c, with this folder first on PATH so
    /// that remote systemctl/journalctl calls reach the fake ones.
    /// </summary>
    /// <summary>
    /// A stand-in ssh that runs the remote command with sh -c here. <paramref name="beforeSwap"/> (a bash snippet) runs
    /// first when the remote command is a release swap (it holds 'mv -Tf'): what another deploy landing on the host in
    /// the ssh round trip before the swap would do.
    /// </summary>
    public string Ssh(string? beforeSwap = null)
    {
        var path = Path.Combine(Dir, "ssh");
        ExecutableFile.Write(path, "#!/bin/bash\n" +
            $"printf '%s\\n' \"ssh $*\" >> '{Log}'\n" +
            $"{{ for a in \"$@\"; do printf '<%s>' \"$a\"; done; printf '\\n'; }} >> '{ArgvLog}'\n" +
            $"export PATH='{Dir}':\"$PATH\"\ncd '{Dir}'\n" +
            (beforeSwap is null ? "" : $"case \"${{@: -1}}\" in *'mv -Tf'*) {beforeSwap};; esac\n") +
            "exec sh -c \"${@: -1}\"\n");
        return path;
    }

    private string ArgvLog => Path.Combine(Dir, "argv-exact.log");

    /// <summary>Each ssh call's exact argument vector, as &lt;arg1&gt;&lt;arg2&gt;... (the boundaries are the point).</summary>
    public string[] ArgvCalls => File.Exists(ArgvLog) ? File.ReadAllLines(ArgvLog) : [];

    public string[] Calls => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    private string KubeconfigLog => Path.Combine(Dir, "kubeconfig-env.log");

    /// <summary>The KUBECONFIG each call saw, one line per call in the order of <see cref="Calls"/>: "TOOL KUBECONFIG=value" ("(unset)" when it had none).</summary>
    public string[] KubeconfigSeen => File.Exists(KubeconfigLog) ? File.ReadAllLines(KubeconfigLog) : [];

    public int? Pid(string file) => File.Exists(Path.Combine(Dir, file)) && int.TryParse(File.ReadAllText(Path.Combine(Dir, file)).Trim(), out var p) ? p : null;
}
