#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Set-AppSetting against fake flyctl that logs its arguments; values never reach a command line or the screen.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Set-AppSetting' -Skip:($IsWindows) {
    It 'imports Fly secrets through stdin and never shows the value' {
        $canary = 'canary-pester-s3cret-4417'
        $cli = New-FakeCli flyctl @{ 'secrets import -a app1' = (New-ReplyFile "Secrets are staged`n") }
        $out = Set-AppSetting -Platform Fly -App app1 -FlyctlPath $cli.Path -Setting @{ FEATURE_X = $canary } -Force -Verbose -ErrorAction Stop 4>&1 | Out-String
        Get-Content $cli.Log | Should -Be 'flyctl secrets import -a app1'
        $out | Should -Not -Match $canary
        $out | Should -Match 'FEATURE_X=\*{8}'
    }
}

Describe 'Set-AppSetting in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line (value masked) under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'Set-AppSetting -Platform Fly -App app1 -FlyctlPath $args[0] -Setting @{ FEATURE_X = ''canary-whatif-9931'' } -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl secrets import -a app1'
        $text | Should -Not -Match 'canary-whatif-9931'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the result at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'secrets import -a app1' = (New-ReplyFile "ok`n") }
        $text = Get-RenderedView (Set-AppSetting -Platform Fly -App app1 -FlyctlPath $cli.Path -Setting @{ FEATURE_X = 'on' } -Force) -Width $Width
        foreach ($col in 'Name', 'Action', 'Succeeded', 'Commands') { $text | Should -Match "\b$col\b" }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Set-AppSetting | Should -Not -Match 'System\.Collections\.Hashtable'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Set-AppSetting -ConfigPath '$($root.Config)' -Service production/ap" | Should -Contain 'production/api'
        Get-CompletionText 'Set-AppSetting -Platform F' | Should -Be 'Fly'
    }
}
