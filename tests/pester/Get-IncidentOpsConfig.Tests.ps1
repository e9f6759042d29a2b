#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentOpsConfig: the loaded configuration, with references shown and secrets masked.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:example = Join-Path $script:RepoRoot 'examples/incidentops.yml'
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentOpsConfig' {
    It 'loads the example with its environments, severities and channels' {
        $config = Get-IncidentOpsConfig -Path $example
        $config.Environments.Name | Should -Contain 'production'
        $config.Severities.Id | Should -Be @('P0', 'P1', 'P2', 'P3')
        $config.Channels.Name | Should -Contain 'pager'
    }

    It 'never prints a literal webhook secret' {
        $file = Join-Path $TestDrive 'secret.yml'
        "channels:`n  audit: { type: webhook, url: 'https://hooks.example.com/x/CANARY123456' }`n" | Set-Content $file
        (Get-IncidentOpsConfig -Path $file | Out-String) | Should -Not -Match 'CANARY123456'
        "$((Get-IncidentOpsConfig -Path $file).Channels[0].Url)" | Should -Not -Match 'CANARY123456'
        (Get-RenderedView (Get-IncidentOpsConfig -Path $file).Channels -Width 80) | Should -Not -Match 'CANARY123456'
    }

    It 'renders the configuration list at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentOpsConfig -Path $example) -Width $Width
        foreach ($label in 'Path', 'Environments', 'Severities', 'Channels', 'Routing', 'Store') { $text | Should -Match "(?m)^$label\s+:" }
        $text | Should -Match 'production \(4\)'
        $text | Should -Match 'P0 Critical'
    }

    It 'renders the channels table at <Width> columns with references, not values' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentOpsConfig -Path $example).Channels -Width $Width
        foreach ($column in 'Name', 'Type', 'Endpoint') { $text | Should -Match $column }
        $text | Should -Match 'incidents\s+Slack\s+secret:SlackIncidentsWebhook'
        $text | Should -Match 'pager\s+PagerDuty\s+routing key env:PD_ROUTING_KEY'
    }

    It 'uses $env:INCIDENTOPS_CONFIG when no path is given' {
        (Get-IncidentOpsConfig).Path | Should -Be $root.Config
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentOpsConfig | Should -Match 'Get-IncidentOpsConfig'
    }
}
