using System.Globalization;
using System.Management.Automation;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Commands;

/// <summary>
/// Lets -Since/-Until of the period cmdlets take either a moment or how long ago: a [datetime], a date string
/// (2026-11-01, 2026-11-01T09:00Z), or a duration as every duration parameter takes it (30d, 12h, 90m, a [timespan]),
/// which means that long before now. The result is a DateTimeOffset; a date without an offset is local time, as
/// PowerShell's Get-Date gives it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PeriodBoundTransformationAttribute : ArgumentTransformationAttribute
{
    public const string Rule = "Give a date (2026-11-01, (Get-Date).AddDays(-30)) or how long ago (30d, 12h, 90m).";

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (inputData is null) return null!;
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case DateTimeOffset d:
                return d;
            case DateTime d:
                return d.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Local)) : new DateTimeOffset(d);
            case string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var parsed) && !Duration.TryParse(s, out _):
                return parsed;
            case string s when DateTimeOffset.TryParse(s, CultureInfo.CurrentCulture, DateTimeStyles.AssumeLocal, out var parsed) && !Duration.TryParse(s, out _):
                return parsed;
        }
        TimeSpan ago;
        try { ago = (TimeSpan)new DurationTransformationAttribute().Transform(engineIntrinsics, inputData); }
        catch (ArgumentTransformationMetadataException ex)
        {
            var message = $"'{inputData}' is neither a date nor a duration. {Rule}";
            throw new ArgumentTransformationMetadataException($"{IncidentMetricErrorIds.PeriodBoundInvalid}: {message}",
                new IncidentOpsException(IncidentMetricErrorIds.PeriodBoundInvalid, IncidentOpsErrorCategory.InvalidArgument, message, ex));
        }
        catch (InvalidCastException)
        {
            var message = $"'{inputData}' is neither a date nor a duration. {Rule}";
            throw new ArgumentTransformationMetadataException($"{IncidentMetricErrorIds.PeriodBoundInvalid}: {message}",
                new IncidentOpsException(IncidentMetricErrorIds.PeriodBoundInvalid, IncidentOpsErrorCategory.InvalidArgument, message));
        }
        return DateTimeOffset.Now - ago;
    }
}
