using System.Management.Automation;

namespace OneCmdlet;

[Cmdlet(VerbsCommon.Get, "OneThing")]
public sealed class GetOneThingCommand : PSCmdlet
{
    protected override void ProcessRecord() => WriteObject(1);
}
