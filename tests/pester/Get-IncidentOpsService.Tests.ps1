#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentOpsService: the services of incidentops.yml, their view and completion.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:example = Join-Path $script:RepoRoot 'examples/incidentops.yml'
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentOpsService' {
    It 'returns the four seed services of production' {
        $services = Get-IncidentOpsService -Path $example -Environment production
        $services.FullName | Should -Be @('production/api', 'production/portfolio', 'production/marketing', 'production/fastapi')
    }

    It 'maps <Service> to <Platform>' -TestCases @(
        @{ Service = 'api'; Platform = 'Fly' }
        @{ Service = 'portfolio'; Platform = 'DigitalOcean' }
        @{ Service = 'marketing'; Platform = 'Kubernetes' }
        @{ Service = 'fastapi'; Platform = 'Systemd' }
    ) {
        (Get-IncidentOpsService -Path $example -Name "production/$Service").Platform | Should -Be $Platform
    }

    It 'writes ServiceNotFound for an unknown name' {
        { Get-IncidentOpsService -Path $example -Name nope -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServiceNotFound,IncidentOps.Commands.GetIncidentOpsServiceCommand'
    }

    It 'offers the service one typing slip away (<Typed>)' -TestCases @(
        @{ Typed = 'production/apii'; Meant = 'production/api' }
        @{ Typed = 'fastap'; Meant = 'production/fastapi' }
    ) {
        $err = $null
        Test-ServiceHealth -Service $Typed -ConfigPath $example -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ServiceNotFound,IncidentOps.Commands.TestServiceHealthCommand'
        $err[0].Exception.Message | Should -BeLike "No service '$Typed' in *. Did you mean '$Meant'? Known services: production/api, *"
    }

    It 'shows each platform target in the default view at <Width> columns' -TestCases @(
        @{ Width = 80 }
        @{ Width = 120 }
    ) {
        $text = Get-RenderedView (Get-IncidentOpsService -Path $example -Environment production) -Width $Width
        foreach ($column in 'Service', 'Platform', 'Health', 'Target') { $text | Should -Match $column }
        # The Target column was blank: the view read $_ inside a switch, where $_ is the switch value.
        $text | Should -Match 'production/api\s+Fly\s+3 ai-affiliate-empire'
        $text | Should -Match 'env:DO_PRODUCTION_APP_ID'
        $text | Should -Match 'production/akaind-platform/marketin'
        if ($Width -eq 80) { $text | Should -Match '(?m)Kubernetes\s+1 production/akaind-platform/marketing\s*$' -Because 'the Target of the example fits at 80 columns' }
        $text | Should -Match 'fastapi on deploy@api-1\.example\.com'
        $text | Should -Not -Match '(?m)^production/marketing\s+Kubernetes\s+1\s+//'
    }

    It 'lists only the settings of each service''s own platform under Format-List' {
        $fly = Get-IncidentOpsService -Path $example -Name production/api | Format-List | Out-String -Width 80
        $fly | Should -Match '(?m)^Service\s+: production/api$'
        $fly | Should -Match '(?m)^App\s+: ai-affiliate-empire$'
        $fly | Should -Match '(?m)^Actions\s+: emergency-stop, block-ip$'
        # Empty settings of the other platforms and the raw option bag were 13 blank or repeated lines.
        foreach ($absent in 'Namespace', 'Deployment', 'Unit', 'ComputerName', 'AppId', 'Options', 'Redis') {
            $fly | Should -Not -Match "(?m)^$absent\s+:"
        }
        $k8s = Get-IncidentOpsService -Path $example -Name production/marketing | Format-List | Out-String -Width 80
        $k8s | Should -Match '(?m)^Namespace\s+: akaind-platform$'
        $k8s | Should -Match '(?m)^Deployment\s+: marketing$'
        $k8s | Should -Not -Match '(?m)^App\s+:'
        $do = Get-IncidentOpsService -Path $example -Name production/portfolio | Format-List | Out-String -Width 120
        $do | Should -Match '(?m)^Components\s+: portfolio-web, image-optimizer, image-worker, monitoring$'
        # Every property is still there for whoever asks for it.
        (Get-IncidentOpsService -Path $example -Name production/api | Format-List * | Out-String) | Should -Match '(?m)^Namespace\s+:'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentOpsService | Should -Match 'Get-IncidentOpsService'
    }

    It 'completes -Environment from the configuration' {
        $matches = Get-Completion "Get-IncidentOpsService -Path '$example' -Environment "
        $matches.CompletionText | Should -Be @('production', 'staging')
        $matches[0].ToolTip | Should -Match 'api, portfolio, marketing, fastapi'
        (Get-Completion "Get-IncidentOpsService -Path '$example' -Environment st").CompletionText | Should -Be 'staging'
    }

    It 'completes -Name from the configuration' {
        Get-CompletionText "Get-IncidentOpsService -Path '$example' -Name production/m" | Should -Contain 'production/marketing'
    }

    It 'completes -Environment from $env:INCIDENTOPS_CONFIG when no path is given' {
        Set-Content -Path $root.Config -Value "store:`n  path: $($root.Store)`nenvironments:`n  blue: { services: { web: { platform: systemd, unit: web } } }`n"
        Get-CompletionText 'Get-AppStatus -Environment ' | Should -Be 'blue'
    }
}
