using System.Text.Json;
using System.Text.Json.Serialization;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Reads a timeline outcome by name, and one this version does not know (written by a newer version sharing the store)
/// as <see cref="TimelineOutcome.Info"/>, so the entry stays readable; writes the name as the enum converter does.
/// </summary>
internal sealed class TolerantTimelineOutcomeConverter : JsonConverter<TimelineOutcome>
{
    public override TimelineOutcome Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => Enum.TryParse<TimelineOutcome>(reader.GetString(), ignoreCase: true, out var known) && Enum.IsDefined(known) ? known : TimelineOutcome.Info,
        JsonTokenType.Number when reader.TryGetInt32(out var n) && Enum.IsDefined((TimelineOutcome)n) => (TimelineOutcome)n,
        JsonTokenType.Number => TimelineOutcome.Info,
        _ => throw new JsonException($"A timeline outcome must be a name, not {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, TimelineOutcome value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
