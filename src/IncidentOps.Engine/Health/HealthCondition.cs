using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>What a condition can look at.</summary>
internal sealed record ConditionContext(int Status, double ResponseTimeMs, string Body, JsonElement? Json,
    IReadOnlyDictionary<string, string> Headers, CertificateFacts? Certificate, bool Connected);

/// <summary>
/// A Gatus-style condition: [STATUS] == 200, [BODY].status == ok, [RESPONSE_TIME] &lt; 300,
/// [HEADER].Content-Type == pat(*json*), [CERTIFICATE_EXPIRATION] &gt; 48h, [CONNECTED] == true,
/// len([BODY].items) &gt; 0. Right-hand values may be numbers, durations (500ms, 90s, 5m, 48h, 7d),
/// text, pat(wildcard) or any(a, b, c).
/// </summary>
public sealed partial class HealthCondition
{
    [GeneratedRegex(@"^\s*(?<len>len\()?\[(?<ph>STATUS|RESPONSE_TIME|BODY|HEADER|CERTIFICATE_EXPIRATION|CONNECTED)\](?<path>[^\s)]*)(?(len)\))\s*(?<op>==|!=|<=|>=|<|>)\s*(?<value>(?![=<>!]).*?)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Grammar();

    private HealthCondition(string text, string placeholder, string path, bool length, string op, string value)
    {
        Text = text; Placeholder = placeholder; Path = path; Length = length; Operator = op; Value = value;
    }

    public string Text { get; }
    private string Placeholder { get; }
    private string Path { get; }
    private bool Length { get; }
    private string Operator { get; }
    private string Value { get; }

    public override string ToString() => Text;

    public static HealthCondition Parse(string text)
    {
        var m = Grammar().Match(text);
        if (!m.Success)
            throw new IncidentOpsException(HealthErrorIds.HealthConditionInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"The condition '{text}' is not understood. Write '[PLACEHOLDER] operator value' with [STATUS], [RESPONSE_TIME], [BODY].path, [HEADER].Name, [CERTIFICATE_EXPIRATION] or [CONNECTED], e.g. '[STATUS] == 200' or '[BODY].status == ok'.") { TargetObject = text };
        var placeholder = m.Groups["ph"].Value.ToUpperInvariant();
        var path = m.Groups["path"].Value;
        if (placeholder == "HEADER" && !path.StartsWith('.'))
            throw new IncidentOpsException(HealthErrorIds.HealthConditionInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"The condition '{text}' needs a header name: [HEADER].Content-Type == application/json.") { TargetObject = text };
        return new HealthCondition(text.Trim(), placeholder, path, m.Groups["len"].Success, m.Groups["op"].Value, m.Groups["value"].Value);
    }

    internal ConditionResult Evaluate(ConditionContext context)
    {
        var actual = Resolve(context);
        if (Length) actual = actual is null ? "0" : actual.Length.ToString(CultureInfo.InvariantCulture);
        var success = Compare(actual, Operator, Value, Placeholder);
        return new ConditionResult { Condition = Text, Success = success, Actual = actual };
    }

    private string? Resolve(ConditionContext c) => Placeholder switch
    {
        "STATUS" => c.Status.ToString(CultureInfo.InvariantCulture),
        "RESPONSE_TIME" => Math.Round(c.ResponseTimeMs).ToString(CultureInfo.InvariantCulture),
        "CONNECTED" => c.Connected ? "true" : "false",
        "CERTIFICATE_EXPIRATION" => c.Certificate is null ? null : Math.Round((c.Certificate.NotAfter - DateTimeOffset.UtcNow).TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        "HEADER" => c.Headers.TryGetValue(Path[1..], out var h) ? h : null,
        "BODY" => ResolveBody(c),
        _ => null,
    };

    private string? ResolveBody(ConditionContext c)
    {
        if (Path.Length == 0) return c.Body;
        if (c.Json is not { } current) return null;
        // .a.b[0].c
        foreach (Match part in Regex.Matches(Path, @"\.([^.\[]+)|\[(\d+)\]"))
        {
            if (part.Groups[1].Success)
            {
                if (current.ValueKind != JsonValueKind.Object) return null;
                var name = part.Groups[1].Value;
                var found = false;
                foreach (var p in current.EnumerateObject())
                    if (p.Name == name || (!found && p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))) { current = p.Value; found = true; if (p.Name == name) break; }
                if (!found) return null;
            }
            else
            {
                var index = int.Parse(part.Groups[2].Value, CultureInfo.InvariantCulture);
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength()) return null;
                current = current[index];
            }
        }
        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString(),
            JsonValueKind.Null => null,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Array when Length => new string('x', current.GetArrayLength()),
            _ => current.GetRawText(),
        };
    }

    private static bool Compare(string? actual, string op, string expected, string placeholder)
    {
        if (op is "==" or "!=")
        {
            bool equal;
            if (expected.StartsWith("any(", StringComparison.OrdinalIgnoreCase) && expected.EndsWith(')'))
                equal = expected[4..^1].Split(',').Select(v => v.Trim()).Any(v => EqualsValue(actual, v, placeholder));
            else equal = EqualsValue(actual, expected, placeholder);
            return op == "==" ? equal : !equal;
        }
        if (actual is null || !TryNumber(actual, placeholder, isActual: true, out var a) || !TryNumber(expected, placeholder, isActual: false, out var b)) return false;
        return op switch { "<" => a < b, "<=" => a <= b, ">" => a > b, ">=" => a >= b, _ => false };
    }

    private static bool EqualsValue(string? actual, string expected, string placeholder)
    {
        if (expected.StartsWith("pat(", StringComparison.OrdinalIgnoreCase) && expected.EndsWith(')'))
            return actual is not null && Regex.IsMatch(actual, "^" + Regex.Escape(expected[4..^1]).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.IgnoreCase | RegexOptions.Singleline);
        if (expected.Equals("null", StringComparison.OrdinalIgnoreCase) || expected.Length == 0) return string.IsNullOrEmpty(actual);
        if (actual is null) return false;
        if (TryNumber(actual, placeholder, true, out var a) && TryNumber(expected, placeholder, false, out var b)) return a == b;
        return string.Equals(actual, expected.Trim('"', '\''), StringComparison.Ordinal);
    }

    /// <summary>Numbers, and for time placeholders durations in milliseconds (48h, 500ms, 7d).</summary>
    private static bool TryNumber(string text, string placeholder, bool isActual, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        if (isActual || placeholder is not ("RESPONSE_TIME" or "CERTIFICATE_EXPIRATION")) return false;
        var m = Regex.Match(text.Trim(), @"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$", RegexOptions.IgnoreCase);
        if (!m.Success) return false;
        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        value = m.Groups[2].Value.ToLowerInvariant() switch { "ms" => n, "s" => n * 1000, "m" => n * 60_000, "h" => n * 3_600_000, _ => n * 86_400_000 };
        return true;
    }
}
