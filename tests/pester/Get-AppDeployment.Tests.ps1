#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppDeployment against fake flyctl/kubectl that replay recorded release history (Platforms/<Provider>/Fixtures).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)


Describe 'Get-AppDeployment' -Skip:($IsWindows) {
    It 'lists Fly releases newest first, marking the current and the last good one' {
        $cli = New-FakeCli flyctl @{ 'releases -a app1 --json --image' = (Get-Fixture 'fly-releases.json') }
        $list = @(Get-AppDeployment -Platform Fly -App app1 -FlyctlPath $cli.Path -ErrorAction Stop)
        $list.Version | Should -Be @('v14', 'v13', 'v12', 'v11')
        ($list | Where-Object IsCurrent).Version | Should -Be 'v13'
        ($list | Where-Object IsLastGood).Version | Should -Be 'v11'
    }

    It 'returns only the newest -First releases' {
        $cli = New-FakeCli flyctl @{ 'releases -a app1 --json --image' = (Get-Fixture 'fly-releases.json') }
        @(Get-AppDeployment -Platform Fly -App app1 -FlyctlPath $cli.Path -First 2).Version | Should -Be @('v14', 'v13')
    }

    It 'lists Kubernetes ReplicaSet revisions' {
        $cli = New-FakeCli kubectl @{
            '-n akaind-platform get deployment marketing -o json'         = (Get-Fixture 'k8s-deployment.json')
            '-n akaind-platform get replicasets -l app=marketing -o json' = (Get-Fixture 'k8s-replicasets.json')
        }
        $list = @(Get-AppDeployment -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop)
        ($list | Where-Object IsCurrent).Version | Should -Be '4'
    }
}

Describe 'Get-AppDeployment in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli flyctl @{ 'releases -a app1 --json --image' = (Get-Fixture 'fly-releases.json') }
        $rows = @(Get-AppDeployment -Platform Fly -App app1 -FlyctlPath $cli.Path)
    }

    It 'shows version, status, mark and the image tag at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Version', 'Status', 'Mark', 'Created', 'Image') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Created \(UTC\)' -Because 'the times are UTC, and the header says so'
        $text | Should -Match 'v13\s+complete\s+current'
        $text | Should -Match 'v11\s+complete\s+last good'
        Get-ViewColumn $text 'Image' | Should -BeLike 'ai-affiliate-empire:deployment-01HQ14*'
    }

    # A DigitalOcean deployment id is a 36-character UUID: in the 9-column Version column it wrapped over four lines at 80
    # columns, and no line of it could be copied. The table shows its first 8 characters; the list view and completion the whole id.
    It 'shows a DigitalOcean deployment id short in the table at <Width> columns, whole in the list, and completes it for Invoke-Rollback' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $do = New-FakeCli doctl @{ 'apps list-deployments id1 -o json' = (Get-Fixture 'do-deployments.json') }
        $list = @(Get-AppDeployment -Platform DigitalOcean -AppId id1 -DoctlPath $do.Path -ErrorAction Stop)
        $list[1].Version | Should -Be 'd4d4d4d4-0000-4000-8000-000000000004'
        $text = Get-RenderedView $list -Width $Width
        $text | Should -Match "d4d4d4d4$([char]0x2026)\s+ACTIVE\s+current"
        $text | Should -Match "d2d2d2d2$([char]0x2026)\s+SUPERSEDED\s+last good"
        $text | Should -Not -Match '0000-4000' -Because 'no fragment of a wrapped id is left on a line of its own'
        ($text -split '\r?\n' | Where-Object { $_ -match '^d\d' }).Count | Should -Be $list.Count -Because 'one line per deployment'
        ($list[1] | Format-List | Out-String -Width $Width) | Should -Match 'Version\s+: d4d4d4d4-0000-4000-8000-000000000004'
        $line = "Invoke-Rollback -Platform DigitalOcean -AppId id1 -DoctlPath '$($do.Path)' -ToVersion d2d2d2d2"
        Get-CompletionText $line | Should -Contain 'd2d2d2d2-0000-4000-8000-000000000002'
        Get-CompletionText "$line$([char]0x2026)" | Should -Contain 'd2d2d2d2-0000-4000-8000-000000000002' -Because 'the short form pasted from the table, ellipsis and all, completes too'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppDeployment | Should -Match 'Default value\s+All'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Get-AppDeployment -ConfigPath '$($root.Config)' -Service api" | Should -Contain 'apiworker'
        Get-CompletionText 'Get-AppDeployment -Platform ' | Should -Not -Contain 'None'
    }
}
