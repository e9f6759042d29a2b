#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The DigitalOcean App Platform API calls of Invoke-Rollback need a token: without DIGITALOCEAN_ACCESS_TOKEN and
# without a doctl login they stop with PlatformAuthMissing before anything is sent. Runs in its own pwsh, so the
# environment (token, HOME, XDG_CONFIG_HOME) is changed for this process only and restored afterwards.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'DigitalOcean API token' -Skip:($IsWindows) {
    BeforeEach {
        $saved = @{}
        foreach ($name in 'DIGITALOCEAN_ACCESS_TOKEN', 'DIGITALOCEAN_API_URL', 'HOME', 'XDG_CONFIG_HOME') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $emptyHome = New-TestTempDir 'io-nohome'
        # A loopback listener stands in for the API: it must see no connection.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        Remove-Item -Path Env:DIGITALOCEAN_ACCESS_TOKEN -ErrorAction SilentlyContinue
        [Environment]::SetEnvironmentVariable('HOME', $emptyHome)
        [Environment]::SetEnvironmentVariable('XDG_CONFIG_HOME', (Join-Path $emptyHome '.config'))
        [Environment]::SetEnvironmentVariable('DIGITALOCEAN_API_URL', "http://127.0.0.1:$($listener.LocalEndpoint.Port)/")
    }

    AfterEach {
        $listener.Stop()
        # PowerShell passes $null as '' to a string parameter: a variable that was unset is removed, not set to ''.
        foreach ($name in $saved.Keys) {
            if ($null -eq $saved[$name]) { Remove-Item -Path "Env:$name" -ErrorAction SilentlyContinue }
            else { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
        Remove-Item -Recurse -Force $emptyHome -ErrorAction SilentlyContinue
    }

    It 'Invoke-Rollback -Commit without a token or doctl login is PlatformAuthMissing and sends nothing' {
        Invoke-Rollback -Platform DigitalOcean -AppId 'f1e2d3c4-0000-4000-8000-00000000a001' -Commit -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'PlatformAuthMissing,IncidentOps.Commands.InvokeRollbackCommand'
        # The whole message, as a person reads it: no part of it may be taken for a secret and masked.
        $err[0].Exception.Message | Should -BeExactly "No DigitalOcean token was found. Set the DIGITALOCEAN_ACCESS_TOKEN environment variable, or log in with 'doctl auth init'."
        $listener.Pending() | Should -BeFalse
    }

    It 'an empty DIGITALOCEAN_API_URL is the real API (never an empty address), and other platforms never read it' {
        $env:DIGITALOCEAN_API_URL = ' '
        Invoke-Rollback -Platform DigitalOcean -AppId 'f1e2d3c4-0000-4000-8000-00000000a001' -Commit -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PlatformAuthMissing,IncidentOps.Commands.InvokeRollbackCommand' -Because 'the token is checked first, so nothing is sent'
        $env:DIGITALOCEAN_API_URL = 'not an address'
        # Before: every platform cmdlet failed with UriFormatException once this variable was empty or invalid.
        $cli = New-FakeCli flyctl @{ 'apps restart app1' = (New-ReplyFile "restarted`n") }
        $r = Restart-App -Platform Fly -App app1 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue -Because 'only DigitalOcean reads DIGITALOCEAN_API_URL'
    }

    It 'a DIGITALOCEAN_API_URL that is not an http(s) address is PlatformApiUrlInvalid, saying how to fix it' {
        $env:DIGITALOCEAN_ACCESS_TOKEN = 'dop_v1_placeholder'
        $env:DIGITALOCEAN_API_URL = 'ftp://example'
        Invoke-Rollback -Platform DigitalOcean -AppId 'f1e2d3c4-0000-4000-8000-00000000a001' -Commit -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PlatformApiUrlInvalid,*'
        $err[0].Exception.Message | Should -Match 'Unset it to use https://api\.digitalocean\.com/'
        $listener.Pending() | Should -BeFalse
    }
}
