#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Contract over every exported cmdlet: Get-Help renders in the shape of PowerShell's own help (SYNTAX with type
# names, PARAMETERS with real defaults, INPUTS and OUTPUTS described, examples apart), never a MAML hashtable.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    $cmdlets = @(Get-Command -Module IncidentOps -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
}

Describe 'Rendered help of <Name>' -ForEach $cmdlets {
    BeforeAll {
        $script:full = Get-Help $Name -Full | Out-String -Width 120
        $script:help = Get-Help $Name -Full
    }

    It 'never shows a MAML hashtable (@{name=...}) anywhere' {
        $full | Should -Not -Match '@\{name='
        (Get-Help $Name -Examples | Out-String -Width 120) | Should -Not -Match '@\{name='
        (Get-Help $Name | Out-String -Width 120) | Should -Not -Match '@\{name='
    }

    It 'shows each non-switch parameter with its type name in SYNTAX' {
        $syntax = ($help.syntax | Out-String -Width 4000)
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        foreach ($p in (Get-Command $Name).Parameters.Values | Where-Object { $_.Name -notin $common -and $_.SwitchParameter -eq $false }) {
            $typeName = $p.ParameterType.Name -replace '^Nullable`1$', $p.ParameterType.GenericTypeArguments[0].Name
            $syntax | Should -Match ([regex]::Escape("-$($p.Name)") + '\]? (<' + [regex]::Escape($typeName) + '>|\{[^}]+\})') -Because "-$($p.Name) of $Name shows its type or its values"
        }
    }

    It 'lists positional parameters first in every SYNTAX line, as Get-Command does' {
        foreach ($item in @($help.syntax.syntaxItem)) {
            $positions = @($item.parameter | ForEach-Object { $_.position })
            $firstNamed = [array]::IndexOf($positions, 'named')
            if ($firstNamed -ge 0) { @($positions[$firstNamed..($positions.Count - 1)] | Where-Object { $_ -ne 'named' }) | Should -BeNullOrEmpty -Because "positional parameters of $Name come first" }
        }
    }

    It 'shows defaults as a user types them: durations as 10m, not 00:10:00 or a type name' {
        foreach ($p in @($help.parameters.parameter)) {
            "$($p.defaultValue)" | Should -Not -Match '^\d\d:\d\d:\d\d$|^System\.|^-?\d+\.\d+:\d\d' -Because "-$($p.name) of $Name"
        }
    }

    It 'describes its INPUTS and OUTPUTS' {
        $full | Should -Match '(?m)^INPUTS\s*$'
        foreach ($i in @($help.inputTypes.inputType)) { ($i.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "an INPUTS entry of $Name says what binds" }
        foreach ($o in @($help.returnValues.returnValue)) {
            $o.type.name | Should -Match '^IncidentOps\.|^System\.' -Because 'OUTPUTS name the full type'
            ($o.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "the output $($o.type.name) of $Name is described"
        }
    }

    It 'keeps a blank line between one example and the next' {
        $titles = [regex]::Matches($full, '(?m)^(.*)\r?\n[ \t]*-+ Example (\d+) -+')
        foreach ($m in $titles | Where-Object { $_.Groups[2].Value -ne '1' }) {
            $m.Groups[1].Value.Trim() | Should -BeNullOrEmpty -Because "Example $($m.Groups[2].Value) of $Name starts after a blank line"
        }
    }
}

Describe 'Help of binding by property name' {
    It 'Stop-PgBackend says that Pid binds by property name (it is not "no pipeline input")' {
        $inputs = (Get-Help Stop-PgBackend -Full).inputTypes.inputType
        ($inputs | Out-String) | Should -Not -Match 'takes no pipeline input'
        ($inputs.description | Out-String) | Should -Match '\bPid\b'
    }

    It 'shows a closed set of values as {A | B} in SYNTAX, like PowerShell''s own help (<Name> -<Parameter>)' -TestCases @(
        @{ Name = 'Stop-PgBackend'; Parameter = 'Mode'; Values = '{Cancel | Terminate}' }
        @{ Name = 'Get-AppLog'; Parameter = 'Type'; Values = '{run | build | deploy}' }
        @{ Name = 'Invoke-PgMaintenance'; Parameter = 'Operation'; Values = '{VacuumAnalyze | Vacuum | Analyze}' }
    ) {
        ((Get-Help $Name).syntax | Out-String -Width 4000) | Should -Match ([regex]::Escape("-$Parameter $Values"))
    }

    It 'lists the default parameter set of Invoke-Rollback first' {
        $first = @((Get-Help Invoke-Rollback -Full).syntax.syntaxItem)[0]
        @($first.parameter.name) | Should -Contain 'ToVersion'
    }
}
