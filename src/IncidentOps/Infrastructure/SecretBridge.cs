using System.Management.Automation;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>
/// The Get-Secret bridge: resolves secret: references through SecretManagement's Get-Secret, which must run on the
/// pipeline thread, so each request is posted to the pump and answered through a task.
/// </summary>
internal sealed class SecretBridge(PSCmdlet cmdlet, PipelinePump pump) : ISecretProvider
{
    public Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
        tcs.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        pump.Post(() =>
        {
            try
            {
                var available = cmdlet.InvokeCommand.GetCommand("Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function);
                if (available is null)
                {
                    tcs.TrySetException(new IncidentOpsException(CommonErrorIds.SecretManagementNotAvailable, IncidentOpsErrorCategory.NotInstalled,
                        $"The secret '{name}' cannot be read: Get-Secret is not available. Install Microsoft.PowerShell.SecretManagement (Install-PSResource Microsoft.PowerShell.SecretManagement) and register a vault, or use an env: or file: reference."));
                    return;
                }
                var output = cmdlet.InvokeCommand.InvokeScript("param($n) Get-Secret -Name $n -AsPlainText -ErrorAction Stop", false,
                    System.Management.Automation.Runspaces.PipelineResultTypes.None, null, name);
                var value = output.Count > 0 ? output[0]?.BaseObject?.ToString() : null;
                tcs.TrySetResult(value);
            }
            catch (Exception ex) when (ex is RuntimeException or CmdletInvocationException)
            {
                tcs.TrySetException(new IncidentOpsException(CommonErrorIds.SecretNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"Get-Secret could not read '{name}': {ex.Message}"));
            }
        });
        return tcs.Task;
    }
}
