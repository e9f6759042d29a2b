using System.Globalization;
using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>
/// Lets TimeSpan parameters take what an on-call engineer types, meaning what it says: 10m, 90s, 1h30m, 2d,
/// 500ms, 00:10:00, a [timespan], or a bare number of seconds.
/// </summary>
/// <remarks>
/// PowerShell parses the unquoted arguments 30s and 2d as numbers: 30s is the [int16] 30 and 2d the
/// [decimal] 2. Left to PowerShell's own conversion those became 30 and 2 ticks. The parser keeps the
/// text the user typed on the argument (what [string] of it gives back), so the text is read here and
/// parsed as a duration: 30s is 30 seconds, 2d is 2 days. A [decimal] whose text is gone (computed, or
/// from a variable) cannot be told from 2d, so it is refused rather than guessed. A [timespan] under a
/// millisecond (ticks) is refused too. Errors carry an IncidentOpsException (DurationInvalid,
/// DurationNegative, DurationOutOfRange, DurationTooSmall, DurationAmbiguous) as their inner exception.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    public const string Rule = "Use 90s, 5m, 1h, 1h30m, 2d, 500ms, hh:mm:ss, a [timespan], or a number of seconds.";

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (inputData is null) return null!;
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan ts:
                return Checked(ts.ToString("c", CultureInfo.InvariantCulture), ts);
            case string s:
                return Parse(s);
            case sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal or System.Numerics.BigInteger:
            {
                // The text as typed (30s, 2d, 1.5d, 0x10), when the argument came straight from the command line.
                var typed = inputData is PSObject ? LanguagePrimitives.ConvertTo<string>(inputData) : null;
                var plain = Convert.ToString(value, CultureInfo.InvariantCulture);
                if (typed is not null && !string.Equals(typed, plain, StringComparison.Ordinal))
                {
                    if (Duration.TryParse(typed, out _) || typed.EndsWith('d') || typed.EndsWith('D') || typed.EndsWith('s') || typed.EndsWith('S'))
                        return Parse(typed);
                    return Seconds(typed, value);
                }
                if (value is decimal)
                    throw Error(CommonErrorIds.DurationAmbiguous,
                        $"The number {plain} is a [decimal], which is what PowerShell makes of an unquoted '{plain}d', but the text as typed is not available here. Write the unit in quotes ('{plain}d' for days, '{plain}s' for seconds) or pass a [timespan].");
                return Seconds(plain ?? "", value);
            }
            default:
                return inputData;
        }
    }

    private static TimeSpan Parse(string text)
    {
        if (Duration.TryParseSetting(text, out var d, out var id, out var message)) return d;
        throw Error(id!, $"{message} {Rule}");
    }

    private static TimeSpan Seconds(string shown, object number)
    {
        double seconds;
        try { seconds = Convert.ToDouble(number, CultureInfo.InvariantCulture); }
        catch (Exception ex) when (ex is OverflowException or InvalidCastException) { seconds = double.PositiveInfinity; }
        if (Duration.FromSeconds(shown, seconds, out var d, out var id, out var message)) return d;
        throw Error(id!, $"{message} {Rule}");
    }

    private static TimeSpan Checked(string shown, TimeSpan value)
    {
        if (Duration.Check(shown, value, out var id, out var message)) return value;
        throw Error(id!, $"{message} {Rule}");
    }

    private static ArgumentTransformationMetadataException Error(string errorId, string message) =>
        new($"{errorId}: {message}", new IncidentOpsException(errorId, IncidentOpsErrorCategory.InvalidArgument, message));
}
