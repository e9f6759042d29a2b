#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-ServiceAction in a real pwsh: the declared runbook actions as objects, their default views, help, completion,
# and the configuration errors a bad declaration gets.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    . (Join-Path $PSScriptRoot 'ServiceActionKit.ps1')
    Import-IncidentOps
    $root = New-ActionTestRoot 'https://ai-affiliate-empire.fly.dev'
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-ServiceAction' -Skip:($IsWindows) {
    It 'lists every declared action as an object that pipes into Invoke-ServiceAction' {
        $actions = Get-ServiceAction -ConfigPath $root.Config
        $actions | ForEach-Object { $_.PSObject.TypeNames[0] } | Select-Object -Unique | Should -Be 'IncidentOps.Actions.ServiceAction'
        $actions | ForEach-Object { "$($_.Service) $($_.Name) $($_.Kind) $($_.ConfirmImpact)" } | Should -Be @(
            'production/api emergency-stop Http High', 'production/api block-ip Command Medium', 'production/marketing rate-limit-strict Manifest Low')
        (Get-Command Invoke-ServiceAction).Parameters['Service'].Attributes.ValueFromPipelineByPropertyName | Should -Contain $true
    }

    It 'filters by service and by name with wildcards, and says when an exact name is not declared' {
        (Get-ServiceAction -Service marketing -ConfigPath $root.Config).Name | Should -Be 'rate-limit-strict'
        (Get-ServiceAction -Name '*stop' -ConfigPath $root.Config).Name | Should -Be 'emergency-stop'
        Get-ServiceAction -Service production/api -Name emergency-stp -ConfigPath $root.Config -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ActionNotFound,IncidentOps.Commands.GetServiceActionCommand'
        "$($err[0])" | Should -Match 'emergency-stop, block-ip'
    }

    It 'shows the table at <Width> columns with each definition whole' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-ServiceAction -ConfigPath $root.Config) -Width $Width
        foreach ($col in 'Service', 'Name', 'Kind', 'Impact', 'Definition') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Definition' | Should -Match ([regex]::Escape('POSThttps://ai-affiliate-empire.fly.dev/api/workflows/emergency-stop'))
        Get-ViewColumn $text 'Definition' | Should -Match ([regex]::Escape('flyctlipsblock{ip}--appai-affiliate-empire'))
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual $Width
    }

    It 'shows the full declaration in the list view with secret header values masked' {
        $text = Get-ServiceAction production/api emergency-stop -ConfigPath $root.Config | Format-List | Out-String -Width 120
        $text | Should -Match 'Authorization: env:IO_PESTER_ACTION_TOKEN'
        $text | Should -Match 'X-Api-Key: \*{8}'
        $text | Should -Match 'Body\s+: \{"reason":"incident"\}'
        $text | Should -Not -Match 'CANARY'
        "$(Get-ServiceAction production/api emergency-stop -ConfigPath $root.Config | ConvertTo-Json -Depth 4)" | Should -Not -Match 'CANARY'
    }

    It 'refuses a configuration whose action is bad, naming the error id, file and line' {
        $bad = New-TestRoot "environments:`n  production:`n    services:`n      api:`n        platform: fly`n        app: a`n        actions:`n          x: { kind: shell, command: [bash, -c, 'rm -rf /'] }`n"
        try {
            { Get-ServiceAction -ConfigPath $bad.Config -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigInvalid,IncidentOps.Commands.GetServiceActionCommand'
            $r = Test-IncidentOpsConfig -Path $bad.Config
            ($r | Where-Object Code -EQ 'ActionUnknownKind').Line | Should -Be 10   # the line of x: { kind: shell ... }
        }
        finally { Remove-TestRoot $bad }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-ServiceAction | Should -Match 'Invoke-ServiceAction'
    }

    It 'completes -Service and -Name' {
        Get-CompletionText "Get-ServiceAction -ConfigPath '$($root.Config)' -Service " | Should -Contain 'production/marketing'
        Get-CompletionText "Get-ServiceAction -ConfigPath '$($root.Config)' -Service production/api -Name " | Should -Be @('emergency-stop', 'block-ip')
    }
}
