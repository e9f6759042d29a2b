#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The DigitalOcean App Platform API calls of Invoke-Rollback need a token: without DIGITALOCEAN_ACCESS_TOKEN and
# without a doctl login they stop with PlatformAuthMissing before anything is sent. Runs in its own pwsh, so the
# environment (token, HOME, XDG_CONFIG_HOME) is changed for this process only and restored afterwards.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'DigitalOcean API token' -Skip:($IsWindows) {
    BeforeEach {
        $saved = @{}
        foreach ($name in 'DIGITALOCEAN_ACCESS_TOKEN', 'DIGITALOCEAN_API_URL', 'DIGITALOCEAN_CONTEXT', 'DIGITALOCEAN_CONFIG', 'HOME', 'XDG_CONFIG_HOME') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $emptyHome = New-TestTempDir 'io-nohome'
        # A loopback listener stands in for the API: it must see no connection.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        foreach ($name in 'DIGITALOCEAN_ACCESS_TOKEN', 'DIGITALOCEAN_CONTEXT', 'DIGITALOCEAN_CONFIG') { Remove-Item -Path "Env:$name" -ErrorAction SilentlyContinue }
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

    It 'doctl and the App Platform API use one account: the doctl context the command started with, never another token' {
        # A multi-account doctl config (XDG_CONFIG_HOME/doctl/config.yaml): the current context team-prod has its own token;
        # DIGITALOCEAN_ACCESS_TOKEN holds another account's, which doctl ignores for a named context.
        $id = 'f1e2d3c4-0000-4000-8000-00000000a001'
        $doctlDir = New-Item -ItemType Directory -Path (Join-Path $env:XDG_CONFIG_HOME 'doctl') -Force
        $config = Join-Path $doctlDir 'config.yaml'
        Set-Content -Path $config -Value "access-token: canary-default-1001`nauth-contexts:`n  team-prod: canary-teamprod-2002`n  team-staging: canary-staging-3003`ncontext: team-prod`n"
        $env:DIGITALOCEAN_ACCESS_TOKEN = 'canary-env-4004'
        # The API stand-in: answers the commit and records what it was sent (method, path, Authorization).
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()
        $seen = Join-Path $emptyHome 'api.log'
        $server = Join-Path $emptyHome 'api.py'
        Set-Content -Path $server -Value (@(
            'import http.server, sys',
            'class H(http.server.BaseHTTPRequestHandler):',
            '    def do_POST(self):',
            '        self.rfile.read(int(self.headers.get("Content-Length") or 0))',
            '        open(sys.argv[2], "a").write(f"{self.command} {self.path} {self.headers.get(''Authorization'')}\n")',
            '        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()',
            '    def log_message(self, *a): pass',
            'http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()') -join "`n")
        $api = Start-Process -FilePath python3 -ArgumentList $server, $port, $seen -PassThru
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($true) {
                $c = [System.Net.Sockets.TcpClient]::new()
                try { $c.Connect('127.0.0.1', $port); break } catch { if ([DateTime]::UtcNow -gt $deadline) { throw 'the API stand-in did not listen' }; Start-Sleep -Milliseconds 100 } finally { $c.Dispose() }
            }
            $cli = New-FakeCli doctl @{ "apps get $id -o json --context team-prod" = (Get-Fixture 'do-app.json') }
            $status = Get-AppStatus -Platform DigitalOcean -AppId $id -DoctlPath $cli.Path -ErrorAction Stop
            (Get-Content $config -Raw).Replace('context: team-prod', 'context: team-staging') | Set-Content -Path $config   # doctl auth switch, elsewhere
            $text = Get-WhatIfText 'Invoke-Rollback -Platform DigitalOcean -AppId $args[0] -Commit -WhatIf' $id
            $text | Should -Match ([regex]::Escape("DigitalOcean app $id (doctl context team-staging)")) -Because 'a new command names the context it starts with'
            $out = $status | Invoke-Rollback -Commit -Force -Verbose -ErrorAction Stop 4>&1 | Out-String
            Get-Content $seen | Should -Be "POST /v2/apps/$id/rollback/commit Bearer canary-teamprod-2002"
            Get-Content $cli.Log | Should -Be "doctl apps get $id -o json --context team-prod --config $config"
            ($out + $text) | Should -Not -Match 'canary'
        }
        finally { $api.Kill($true) }
    }

    It 'a piped app read with one doctl config file is refused (PipelineTargetMismatch) once DIGITALOCEAN_CONFIG names another' {
        # Two config files whose current context has the same name, as two companies' doctl setups on one laptop would.
        $id = 'f1e2d3c4-0000-4000-8000-00000000a001'
        $first = Join-Path $emptyHome 'first.yaml'
        $second = Join-Path $emptyHome 'second.yaml'
        Set-Content -Path $first -Value "auth-contexts:`n  team-prod: canary-first-5005`ncontext: team-prod`n"
        Set-Content -Path $second -Value "auth-contexts:`n  team-prod: canary-second-6006`ncontext: team-prod`n"
        $env:DIGITALOCEAN_CONFIG = $first
        $cli = New-FakeCli doctl @{ "apps get $id -o json" = (Get-Fixture 'do-app.json'); "apps create-deployment $id" = (New-ReplyFile "[]`n") }
        $status = Get-AppStatus -Platform DigitalOcean -AppId $id -DoctlPath $cli.Path -ErrorAction Stop
        $env:DIGITALOCEAN_CONFIG = $second
        $out = $status | Restart-App -DoctlPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.RestartAppCommand'
        "$($err[0])" | Should -Match ([regex]::Escape("read with doctl's config file '$first', but doctl now uses '$second'"))
        Get-Content $cli.Log | Should -Be "doctl apps get $id -o json --context team-prod --config $first"
        "$($err[0])" | Should -Not -Match 'canary'
    }
}
