using System.Globalization;
using IncidentOps.Incidents;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The pager keys a new incident gets, written out as the README documents them: the incident id and when it was declared
/// (UTC, to the millisecond), so two stores' incidents numbered alike never share an alert.
/// </summary>
public static class ExpectedPagerKey
{
    public static string Stamp(Incident incident) => incident.DeclaredAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);

    /// <summary>PagerDuty's dedup_key: incidentops-INC-20261130-001-20261130T091512345Z.</summary>
    public static string PagerDuty(Incident incident) => $"incidentops-{incident.Id}-{Stamp(incident)}";

    /// <summary>Opsgenie's alias: INC-20261130-001-20261130T091512345Z.</summary>
    public static string Opsgenie(Incident incident) => $"{incident.Id}-{Stamp(incident)}";
}
