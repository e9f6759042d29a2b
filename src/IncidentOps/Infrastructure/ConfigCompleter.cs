using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the argument completers that read the configuration or the incident store: finds the
/// configuration the command line names (-ConfigPath, or -Path on the config cmdlets), filters the
/// candidates by what was typed, and never lets a failure reach the user (completion offers nothing instead).
/// </summary>
public abstract class ConfigCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var word = (wordToComplete ?? "").Trim('\'', '"');
            var configPath = (fakeBoundParameters?["ConfigPath"] ?? fakeBoundParameters?["Path"]) as string;
            var results = new List<CompletionResult>();
            foreach (var (text, tooltip) in Candidates(commandName, configPath, CurrentDirectory(), fakeBoundParameters ?? new Hashtable()))
            {
                if (!Matches(text, tooltip, word)) continue;
                var quoted = text.IndexOfAny([' ', '\'', '"', '$', '`', ',', ';', '(', ')', '{', '}', '|', '&', '@', '#']) >= 0 ? $"'{text.Replace("'", "''")}'" : text;
                results.Add(new CompletionResult(quoted, text, CompletionResultType.ParameterValue, string.IsNullOrEmpty(tooltip) ? text : tooltip));
            }
            return results;
        }
        catch (Exception)
        {
            return []; // completion must never throw at the user
        }
    }

    /// <summary>What may be offered: (text inserted, tooltip), best first.</summary>
    protected abstract IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound);

    /// <summary>A prefix of the value matches; completers may also match on the tooltip (incident titles).</summary>
    protected virtual bool Matches(string text, string tooltip, string word) =>
        word.Length == 0 || new WildcardPattern(word + "*", WildcardOptions.IgnoreCase).IsMatch(text);

    /// <summary>pwsh's current FileSystem location (where a relative -ConfigPath and incidentops.yml are looked for).</summary>
    internal static string CurrentDirectory()
    {
        try
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            var location = ps.AddCommand("Microsoft.PowerShell.Management\\Get-Location").AddParameter("PSProvider", "FileSystem").Invoke();
            if (location.Count > 0 && location[0]?.BaseObject is PathInfo info) return info.ProviderPath;
        }
        catch (Exception) { }
        return Directory.GetCurrentDirectory();
    }
}
