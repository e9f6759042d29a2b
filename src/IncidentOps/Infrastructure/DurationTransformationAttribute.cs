using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>
/// Lets TimeSpan parameters take the short forms an on-call engineer types: 10m, 90s, 1h30m, 2d, or
/// 00:10:00. A bare number means seconds.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan:
                return value;
            case int or long or double or decimal:
                return TimeSpan.FromSeconds(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
            case string s when Duration.TryParse(s, out var d):
                return d;
            case string s when double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var secs):
                return TimeSpan.FromSeconds(secs);
            case string s:
                throw new ArgumentTransformationMetadataException($"'{s}' is not a duration. Use 90s, 5m, 1h, 1h30m, 2d or hh:mm:ss.");
            default:
                return inputData;
        }
    }
}
