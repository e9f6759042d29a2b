using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of a duration parameter (-Since 10m): the usual look-back windows of an incident (10m, 30m, 1h, 6h,
/// 1d, 7d), and for a bare number what it can mean (15 offers 15m, 15h, 15d). Never file names: a duration is not a path.
/// </summary>
public sealed class DurationCompleter : IArgumentCompleter
{
    private static readonly (string Text, string Tooltip)[] Common =
    [
        ("10m", "the last 10 minutes"), ("30m", "the last 30 minutes"), ("1h", "the last hour"), ("6h", "the last 6 hours"),
        ("1d", "the last day"), ("7d", "the last 7 days"),
    ];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        IEnumerable<(string Text, string Tooltip)> offered = word.Length > 0 && word.All(char.IsAsciiDigit) && int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? [($"{n}m", $"the last {n} minute{(n == 1 ? "" : "s")}"), ($"{n}h", $"the last {n} hour{(n == 1 ? "" : "s")}"), ($"{n}d", $"the last {n} day{(n == 1 ? "" : "s")}")]
            : Common.Where(c => c.Text.StartsWith(word, StringComparison.OrdinalIgnoreCase));
        return offered.Select(c => new CompletionResult(c.Text, c.Text, CompletionResultType.ParameterValue, c.Tooltip)).ToList();
    }
}
