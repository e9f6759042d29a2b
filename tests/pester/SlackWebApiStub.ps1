# A loopback stand-in for the Slack Web API methods of the incident channel (dot-source it): conversations.create,
# conversations.setTopic, conversations.invite, chat.postMessage, pins.add, conversations.archive and
# conversations.list, answered in the shapes https://api.slack.com/methods documents. It checks the bearer token
# (not_authed / invalid_auth otherwise), keeps the channels it made (name_taken for a second one of a name), and
# records every request: Method, Path, Authorization, ContentType, Body. $stub.Queue holds scripted answers that
# come first for a method: @{ Method = 'conversations.create'; Status = 429; Body = '...'; RetryAfter = '1' }.
function Start-SlackWebApiStub([string] $Token) {
    # A started listener on a free port (New-TestHttpListener of Common.ps1 retries with a fresh port and listener
    # when another process took the probed port before Start).
    $http = New-TestHttpListener
    $listener = $http.Listener
    $port = ([uri]$http.Base).Port
    $state = [hashtable]::Synchronized(@{
        Requests = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        Channels = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        Queue    = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
        Token    = $Token
    })
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
        param($listener, $state)
        function Answer($ctx, [int] $code, [string] $json, [string] $retryAfter) {
            $ctx.Response.StatusCode = $code
            $ctx.Response.ContentType = 'application/json'
            if ($retryAfter) { $ctx.Response.Headers.Add('Retry-After', $retryAfter) }
            $bytes = [Text.Encoding]::UTF8.GetBytes($json)
            $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            $ctx.Response.Close()
        }
        function Json($o) { $o | ConvertTo-Json -Depth 8 -Compress }
        function ChannelJson($c) { @{ id = $c.id; name = $c.name; is_channel = $true; created = $c.created; creator = 'U0BOT00001'; is_archived = $c.archived; topic = @{ value = $c.topic }; purpose = @{ value = '' } } }
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $body = [IO.StreamReader]::new($ctx.Request.InputStream).ReadToEnd()
            $method = $ctx.Request.Url.AbsolutePath.Split('/')[-1]
            $auth = $ctx.Request.Headers['Authorization']
            $null = $state.Requests.Add([pscustomobject]@{ Method = $ctx.Request.HttpMethod; Path = $ctx.Request.Url.AbsolutePath; Authorization = $auth; ContentType = $ctx.Request.ContentType; Body = $body })
            $scripted = $state.Queue | Where-Object { $_.Method -eq $method } | Select-Object -First 1
            if ($scripted) { $state.Queue.Remove($scripted); Answer $ctx $scripted.Status $scripted.Body $scripted.RetryAfter; continue }
            if (-not $auth) { Answer $ctx 200 (Json @{ ok = $false; error = 'not_authed' }); continue }
            if ($auth -ne "Bearer $($state.Token)") { Answer $ctx 200 (Json @{ ok = $false; error = 'invalid_auth' }); continue }
            $form = @{}
            if ($ctx.Request.ContentType -like 'application/json*') { $form = $body | ConvertFrom-Json -AsHashtable }
            elseif ($body) { foreach ($pair in $body -split '&') { $k, $v = $pair -split '=', 2; $form[[uri]::UnescapeDataString($k)] = [uri]::UnescapeDataString($v) } }
            $channel = $state.Channels | Where-Object { $_.id -eq $form.channel } | Select-Object -First 1
            switch ($method) {
                'conversations.create' {
                    if ($state.Channels | Where-Object name -eq $form.name) { Answer $ctx 200 (Json @{ ok = $false; error = 'name_taken' }); break }
                    $c = @{ id = 'C0PESTER' + ($state.Channels.Count + 1).ToString('000'); name = $form.name; created = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds(); topic = ''; archived = $false; members = @(); pins = @(); messages = 0 }
                    $null = $state.Channels.Add($c)
                    Answer $ctx 200 (Json @{ ok = $true; channel = (ChannelJson $c) })
                }
                'conversations.list' { Answer $ctx 200 (Json @{ ok = $true; channels = @($state.Channels | ForEach-Object { ChannelJson $_ }); response_metadata = @{ next_cursor = '' } }) }
                'conversations.setTopic' { $channel.topic = $form.topic; Answer $ctx 200 (Json @{ ok = $true; channel = (ChannelJson $channel) }) }
                'conversations.invite' { $channel.members += $form.users -split ','; Answer $ctx 200 (Json @{ ok = $true; channel = (ChannelJson $channel) }) }
                'chat.postMessage' { $channel.messages++; Answer $ctx 200 (Json @{ ok = $true; channel = $channel.id; ts = "1764500000.$('{0:000000}' -f (100 + $channel.messages))" }) }
                'pins.add' { $channel.pins += $form.timestamp; Answer $ctx 200 (Json @{ ok = $true }) }
                'conversations.archive' { $channel.archived = $true; Answer $ctx 200 (Json @{ ok = $true }) }
                default { Answer $ctx 200 (Json @{ ok = $false; error = 'unknown_method' }) }
            }
        }
    }).AddArgument($listener).AddArgument($state)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ Url = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle; State = $state; Requests = $state.Requests; Channels = $state.Channels; Queue = $state.Queue }
}

function Stop-SlackWebApiStub($Stub) {
    if (-not $Stub) { return }
    try { $Stub.Listener.Stop(); $Stub.Listener.Close() } catch { }
    $Stub.PowerShell.Dispose()
}
