using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>
/// The rule for piping into a change: the change acts where the piped object came from. Parameters typed on the
/// command line win over values bound from the pipeline, so an explicit -Service (or -App, -ConnectionString ...)
/// next to a piped object from somewhere else would silently redirect the change. This compares the two.
/// </summary>
internal static class PipelineOrigin
{
    public const string MismatchErrorId = CommonErrorIds.PipelineTargetMismatch;

    /// <summary>
    /// The first identity property whose value on the piped object differs from the same parameter given on the
    /// command line, as (name, piped value, given value); null when they agree or either side is empty.
    /// </summary>
    public static (string Name, string Piped, string Given)? FindMismatch(PSObject? input, IReadOnlyDictionary<string, object?> explicitParameters, IEnumerable<string> names)
    {
        if (input is null || input.BaseObject is string or ValueType) return null;
        foreach (var name in names)
        {
            if (!explicitParameters.TryGetValue(name, out var given)) continue;
            var givenText = Text(given);
            if (string.IsNullOrEmpty(givenText)) continue;
            // An App object's identity is also in its options (GetOptions()), the only place a platform without named properties keeps it.
            var pipedText = Text(Property(input, name) ?? Option(input, name));
            if (string.IsNullOrEmpty(pipedText) || pipedText == "None") continue;
            if (name == "Service")
            {
                // A ServiceTarget carries the short name next to its Environment; compare environment/service forms.
                var env = Text(Property(input, "Environment"));
                if (!pipedText.Contains('/') && !string.IsNullOrEmpty(env)) pipedText = env + "/" + pipedText;
                if (SameService(pipedText, givenText)) continue;
            }
            else if (string.Equals(pipedText, givenText, StringComparison.OrdinalIgnoreCase)) continue;
            return (name, pipedText, givenText);
        }
        return null;
    }

    public static string Message((string Name, string Piped, string Given) m, string what, object? input = null) =>
        $"The piped {what}{(input is null ? "" : $" ({input})")} came from {m.Name} '{m.Piped}', but -{m.Name} '{m.Given}' was given. The change would act on a different target than the one the object describes, so nothing was done. Drop -{m.Name} to act where the object came from, or read the objects from '{m.Given}' first.";

    public static object? Property(PSObject input, string name)
    {
        try { return input.Properties[name]?.Value; }
        catch (GetValueException) { return null; }
    }

    /// <summary>The entry <paramref name="name"/> of a piped App object's options (AppIdentity.GetOptions()) or of another object's Options property, or null.</summary>
    private static string? Option(PSObject input, string name) =>
        (input.BaseObject is Platforms.AppIdentity app ? app.GetOptions()
            : Property(input, "Options") is { } o ? (o is PSObject p ? p.BaseObject : o) : null) is IReadOnlyDictionary<string, string> options
            && options.TryGetValue(name, out var value) ? value : null;

    private static string Text(object? value) => value switch
    {
        null => "",
        PSObject p => Text(p.BaseObject),
        string s => s.Trim(),
        string[] a => string.Join(",", a.Select(x => x.Trim())),
        object[] a => string.Join(",", a.Select(Text)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    // production/api equals api (a name alone resolves to the one service of that name); lists compare as sets.
    private static bool SameService(string piped, string given)
    {
        var a = piped.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var b = given.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        static string Tail(string s) => s.Contains('/') ? s[(s.IndexOf('/') + 1)..] : s;
        return a.All(x => b.Any(y => string.Equals(x, y, StringComparison.OrdinalIgnoreCase)
            || ((!x.Contains('/') || !y.Contains('/')) && string.Equals(Tail(x), Tail(y), StringComparison.OrdinalIgnoreCase))));
    }
}
