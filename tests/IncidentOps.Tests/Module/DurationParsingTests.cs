using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>
/// Duration.TryParse was a compiled regex; it is hand-written now because the regex cost every session's first
/// config load ~100 ms (bench/import/README.md). These tests hold the parser to the regex's exact behaviour.
/// </summary>
public class DurationParsingTests
{
    // The pattern Duration used before, kept here as the specification.
    private static readonly Regex Spec = new(@"^\s*(?:(?<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?<m>\d+(?:\.\d+)?)\s*m(?!s))?\s*(?:(?<s>\d+(?:\.\d+)?)\s*s)?\s*(?:(?<ms>\d+)\s*ms)?\s*$", RegexOptions.IgnoreCase);

    private static (bool Ok, TimeSpan Value, string? Error) BySpec(string? text)
    {
        try
        {
            if (string.IsNullOrWhiteSpace(text)) return (false, default, null);
            var t = text.Trim();
            var m = Spec.Match(t);
            if (m.Success && (m.Groups["d"].Success || m.Groups["h"].Success || m.Groups["m"].Success || m.Groups["s"].Success || m.Groups["ms"].Success))
            {
                double G(string n) => m.Groups[n].Success ? double.Parse(m.Groups[n].Value, CultureInfo.InvariantCulture) : 0;
                return (true, TimeSpan.FromDays(G("d")) + TimeSpan.FromHours(G("h")) + TimeSpan.FromMinutes(G("m")) + TimeSpan.FromSeconds(G("s")) + TimeSpan.FromMilliseconds(G("ms")), null);
            }
            if (t.Contains(':') && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var v)) return (v >= TimeSpan.Zero, v >= TimeSpan.Zero ? v : default, null);
            return (false, default, null);
        }
        catch (Exception ex) { return (false, default, ex.GetType().Name); }
    }

    private static (bool Ok, TimeSpan Value, string? Error) ByParser(string? text)
    {
        try { return Duration.TryParse(text, out var v) ? (true, v, null) : (false, default, null); }
        catch (Exception ex) { return (false, default, ex.GetType().Name); }
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("1h5ms", 3600.005)]
    [InlineData(" 2d 3h 4m 5s 6ms ", 183845.006)]
    [InlineData("1H30M", 5400)]
    [InlineData("90 s", 90)]
    [InlineData("0.25m", 15)]
    [InlineData("1:30:00", 5400)]
    public void Accepts_what_the_regex_accepted(string text, double seconds)
    {
        Assert.True(Duration.TryParse(text, out var d), text);
        Assert.Equal(seconds, d.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("30m1h")]
    [InlineData("1h2h")]
    [InlineData("1.5ms")]
    [InlineData("1.h")]
    [InlineData("5 m s")]
    [InlineData("h")]
    [InlineData("5")]
    [InlineData("-5m")]
    [InlineData("5x")]
    [InlineData("-00:10:00")]
    public void Rejects_what_the_regex_rejected(string text) => Assert.False(Duration.TryParse(text, out _), text);

    [Fact]
    public void Agrees_with_the_regex_on_generated_inputs()
    {
        const string alphabet = "0123456789.dhmsDHMS :x-\t";
        var random = new Random(20261123);
        var disagreements = new List<string>();
        for (var n = 0; n < 40000 && disagreements.Count < 10; n++)
        {
            string text;
            if (n % 2 == 0)
            {
                var chars = new char[random.Next(1, 10)];
                for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
                text = new string(chars);
            }
            else
            {
                // Shaped like a duration: one to three number-unit parts in any order, blanks here and there.
                string[] numbers = ["0", "5", "12", "1.5", "007", "3.", ".5", "2.25"], units = ["d", "h", "m", "s", "ms", "D", "MS", "Ms", "mS", "x", ""];
                string Blank() => random.Next(4) == 0 ? " " : "";
                text = Blank();
                for (var p = random.Next(1, 4); p > 0; p--)
                    text += numbers[random.Next(numbers.Length)] + Blank() + units[random.Next(units.Length)] + Blank();
            }
            var (expected, actual) = (BySpec(text), ByParser(text));
            // The regex overflowed into an exception on huge values (99999999d); the parser refuses them instead.
            if (expected.Error == nameof(OverflowException)) expected = (false, default, null);
            if (expected != actual) disagreements.Add($"'{text}': regex {expected}, parser {actual}");
        }
        Assert.True(disagreements.Count == 0, string.Join(Environment.NewLine, disagreements));
    }
}
