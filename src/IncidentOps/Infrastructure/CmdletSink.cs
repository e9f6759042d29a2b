using System.Management.Automation;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Carries the engine's verbose/warning/debug/progress reports to the pipeline thread (through the pump), secrets masked.</summary>
internal sealed class CmdletSink(Cmdlet cmdlet, PipelinePump pump) : IOperationSink
{
    public void Verbose(string message) => pump.Post(() => cmdlet.WriteVerbose(SecretRedactor.Redact(message)));
    public void Warning(string message) => pump.Post(() => cmdlet.WriteWarning(SecretRedactor.Redact(message)));
    public void Debug(string message) => pump.Post(() => cmdlet.WriteDebug(SecretRedactor.Redact(message)));

    public void Progress(OperationProgress p) => pump.Post(() =>
    {
        var record = new ProgressRecord(p.ActivityId, p.Activity, string.IsNullOrEmpty(p.Status) ? "..." : p.Status)
        {
            PercentComplete = Math.Clamp(p.PercentComplete, -1, 100),
            SecondsRemaining = p.SecondsRemaining,
            RecordType = p.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        cmdlet.WriteProgress(record);
    });
}
