using System.Collections;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Tab completion of -Template on New-IncidentReport: the built-in report styles, then Scriban template files (*.scriban, *.sbn) in the current folder.</summary>
public sealed class ReportTemplateCompleter : ConfigCompleter
{
    protected override IEnumerable<(string Text, string Tooltip)> Candidates(string commandName, string? configPath, string currentDirectory, IDictionary bound)
    {
        var result = CompletionCatalog.ReportTemplates().Select(c => (c.Text, c.Tooltip)).ToList();
        foreach (var pattern in new[] { "*.scriban", "*.sbn", "*.sbn-md", "*.sbn-html" })
            foreach (var file in Directory.EnumerateFiles(currentDirectory, pattern).OrderBy(f => f, StringComparer.OrdinalIgnoreCase).Take(50))
                result.Add(("./" + Path.GetFileName(file), $"template file {file}"));
        return result;
    }

    protected override bool Matches(string text, string tooltip, string word) =>
        base.Matches(text, tooltip, word) || base.Matches(text.StartsWith("./", StringComparison.Ordinal) ? text[2..] : text, tooltip, word);
}
