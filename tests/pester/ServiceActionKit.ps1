# Shared by Get-ServiceAction.Tests.ps1 and Invoke-ServiceAction.Tests.ps1 (dot-source after Common.ps1, OpsTestKit.ps1
# and FakeCli.ps1): a loopback HTTP server that records every request exactly (method, path, headers, body), and an
# incidentops.yml declaring the seed actions against it and against fake flyctl/kubectl.

function Start-ActionServer([int] $Status = 200, [string] $Body = '{"stopped":true}') {
    # A port the OS gave free (Common.ps1), not a random one that can collide with another test's server.
    $http = New-TestHttpListener
    $listener = $http.Listener
    $requests = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
    $state = [hashtable]::Synchronized(@{ Status = $Status; Body = $Body })
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
        param($listener, $requests, $state)
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $reader = [IO.StreamReader]::new($ctx.Request.InputStream)
            $headers = @{}
            foreach ($k in $ctx.Request.Headers.AllKeys) { $headers[$k] = $ctx.Request.Headers[$k] }
            $null = $requests.Add([pscustomobject]@{ Method = $ctx.Request.HttpMethod; Path = $ctx.Request.RawUrl; Headers = $headers; Body = $reader.ReadToEnd() })
            $ctx.Response.StatusCode = $state.Status
            $ctx.Response.ContentType = 'application/json'
            $bytes = [Text.Encoding]::UTF8.GetBytes($state.Body)
            try { $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length); $ctx.Response.Close() } catch { }
        }
    }).AddArgument($listener).AddArgument($requests).AddArgument($state)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ Base = $http.Base; Listener = $listener; PowerShell = $ps; Handle = $handle; Requests = $requests; State = $state }
}

# A test root whose services declare the seed actions; $env:IO_PESTER_ACTION_TOKEN holds the canary credential.
function New-ActionTestRoot([string] $BaseUrl) {
    $env:IO_PESTER_ACTION_TOKEN = 'Bearer CANARY' + [guid]::NewGuid().ToString('N')
    $flyctl = New-FakeCli flyctl @{ 'ips block' = (New-ReplyFile "blocked`n") }
    $kubectl = New-FakeCli kubectl @{ '--context production --namespace akaind-platform apply -f' = (New-ReplyFile "ingress.networking.k8s.io/marketing configured`n") }
    $root = New-TestRoot (@"
environments:
  production:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire
        baseUrl: $BaseUrl
        actions:
          emergency-stop:
            description: Stop all automated workflows
            url: /api/workflows/emergency-stop
            headers: { Authorization: env:IO_PESTER_ACTION_TOKEN, X-Api-Key: literal-CANARY-key-0042 }
            body: '{"reason":"incident"}'
            timeout: 30s
          block-ip:
            description: Block a suspicious IP at Fly's edge
            command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
            parameters: [ip]
            confirmImpact: Medium
      marketing:
        platform: kubernetes
        context: production
        namespace: akaind-platform
        deployment: marketing
        actions:
          rate-limit-strict: { description: Strict ingress rate limit, apply: k8s/rate-limit-strict.yaml, confirmImpact: Low }
tools:
  flyctl: $($flyctl.Path)
  kubectl: $($kubectl.Path)
"@)
    New-Item -ItemType Directory -Path (Join-Path $root.Dir 'k8s') | Out-Null
    Set-Content -Path (Join-Path $root.Dir 'k8s/rate-limit-strict.yaml') -Value "kind: Ingress`n"
    $root | Add-Member Flyctl $flyctl -PassThru | Add-Member Kubectl $kubectl -PassThru
}
