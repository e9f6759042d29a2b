#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Restart-AppDatabase against fake flyctl that logs its arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Restart-AppDatabase' -Skip:($IsWindows) {
    It 'restarts a Fly Postgres cluster with flyctl postgres restart' {
        $cli = New-FakeCli flyctl @{ 'postgres restart -a pg1' = (New-ReplyFile "Postgres cluster has been successfully restarted!`n") }
        $r = Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.Action | Should -Be 'Restart database'
        Get-Content $cli.Log | Should -Be 'flyctl postgres restart -a pg1'
    }

    It 'is not supported on DigitalOcean' {
        { Restart-AppDatabase -Platform DigitalOcean -DatabaseId db1 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand'
    }
}

Describe 'Restart-AppDatabase in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line with the exact command under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $args[0] -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl postgres restart -a pg1'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the result at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'postgres restart -a pg1' = (New-ReplyFile "ok`n") }
        $text = Get-RenderedView (Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -Force) -Width $Width
        foreach ($col in 'Name', 'Action', 'Succeeded', 'Commands') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Commands' | Should -Be 'flyctlpostgresrestart-apg1'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Restart-AppDatabase | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Restart-AppDatabase -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Restart-AppDatabase -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Aws')
    }
}
