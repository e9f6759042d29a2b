using System.Management.Automation;
using System.Reflection;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>
/// What the cmdlet base's parts owe every cmdlet: -Record is read through one typed mark, and the parameters
/// written on a timeline leave out every parameter PowerShell adds to a command.
/// </summary>
public class CmdletBaseContractTests
{
    private static Assembly ModuleAssembly => Paths.ModuleAssembly;

    [Fact]
    public void Every_cmdlet_with_a_Record_switch_has_it_read_by_the_base_through_IRecordSwitch()
    {
        var cmdlets = ModuleAssembly.GetTypes().Where(t => t.GetCustomAttribute<CmdletAttribute>() is not null).ToList();
        var withRecord = cmdlets.Where(t => t.GetProperty("Record") is { } p && p.GetCustomAttributes<ParameterAttribute>().Any()).ToList();
        Assert.NotEmpty(withRecord);
        var unmarked = withRecord.Where(t => !t.GetInterfaces().Any(i => i.Name == "IRecordSwitch")).Select(t => t.Name).ToList();
        Assert.Empty(unmarked);
    }

    [Fact]
    public void The_timeline_leaves_out_every_common_and_ShouldProcess_parameter_and_keeps_the_commands_own()
    {
        var sanitize = ModuleAssembly.GetType("IncidentOps.Commands.ParameterSanitizer", throwOnError: true)!
            .GetMethod("Sanitize", BindingFlags.Public | BindingFlags.Static)!;
        var bound = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Cmdlet.CommonParameters) bound[name] = "x";
        bound["WhatIf"] = new SwitchParameter(true);
        bound["Confirm"] = new SwitchParameter(false);
        bound["Service"] = "production/api";
        bound["Force"] = new SwitchParameter(true);
        var safe = (IReadOnlyDictionary<string, string>)sanitize.Invoke(null, [bound])!;
        Assert.Equal(new[] { "Force", "Service" }, safe.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal("production/api", safe["Service"]);
        Assert.Equal("True", safe["Force"]);
    }
}
