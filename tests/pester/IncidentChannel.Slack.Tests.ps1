#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The incident's own Slack channel (seed 002: create #incident-YYYY-MM-DD-NNN; seed 003: invite on-call and leads, pin
# the incident template, archive the channel afterwards), through New-Incident and Close-Incident in a real pwsh,
# against a loopback stand-in of the Slack Web API (SlackWebApiStub.ps1) that checks the bearer token.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'SlackWebApiStub.ps1')
    $script:token = 'xoxb-CANARYpesterSl4ckB0t'
    $script:slack = Start-SlackWebApiStub -Token $token
    $script:root = Initialize-IncidentTestFile -Yaml @"
channels:
  warroom:
    type: slack
    token: env:PESTER_SLACK_BOT_TOKEN
    url: '$($slack.Url)/api'
    incidentChannel: '#incident-{yyyy}-{MM}-{dd}-{NNN}'
    invite: [U0ONCALL01, U0LEAD0002]
"@
    $env:PESTER_SLACK_BOT_TOKEN = $token
    function Get-SlackCall([string] $Method) { @($slack.Requests | Where-Object Path -eq "/api/$Method") }
    function Reset-Slack { $slack.Requests.Clear(); $slack.Channels.Clear(); $slack.Queue.Clear() }
}

AfterAll {
    Exit-IsolatedIncidentOps $script:root
    Stop-SlackWebApiStub $script:slack
    Remove-Item Env:PESTER_SLACK_BOT_TOKEN -ErrorAction SilentlyContinue
}

Describe 'New-Incident with a Slack incident channel' {
    BeforeEach { Reset-Slack }

    It 'creates the channel, invites the responders, posts and pins the summary, and records each step' {
        $i = New-Incident -Title 'Image optimizer down' -Severity P1 -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $name = "incident-$($i.DeclaredAt.UtcDateTime.ToString('yyyy-MM-dd'))-$($i.Id.Substring($i.Id.Length - 3))"
        $slack.Requests.Path | Should -Be @('/api/conversations.create', '/api/conversations.setTopic', '/api/conversations.invite', '/api/chat.postMessage', '/api/pins.add')
        foreach ($r in $slack.Requests) { $r.Authorization | Should -BeExactly "Bearer $token" }
        $channel = $slack.Channels[0]
        (Get-SlackCall conversations.create)[0].Body | Should -BeExactly "{`"name`":`"$name`",`"is_private`":false}"
        (Get-SlackCall conversations.invite)[0].Body | Should -BeExactly "{`"channel`":`"$($channel.id)`",`"users`":`"U0ONCALL01,U0LEAD0002`"}"
        $post = (Get-SlackCall chat.postMessage)[0].Body | ConvertFrom-Json
        $post.channel | Should -Be $channel.id
        $post.text | Should -Match '^\[P1\] Image optimizer down: P1 \(High\) incident declared'
        (Get-SlackCall pins.add)[0].Body | Should -BeExactly "channel=$($channel.id)&timestamp=1764500000.000101"
        (Get-SlackCall pins.add)[0].ContentType | Should -BeLike 'application/x-www-form-urlencoded*'
        $channel.members | Should -Be @('U0ONCALL01', 'U0LEAD0002')
        $channel.pins | Should -Be @('1764500000.000101')
        $i.ExternalIds['slack:warroom'] | Should -Be $channel.id
        $steps = @(Get-IncidentTimeline -Incident $i.Id | Where-Object Action -like 'Slack *')
        $steps.Action | Should -Be @('Slack conversations.create', 'Slack conversations.setTopic', 'Slack conversations.invite', 'Slack chat.postMessage', 'Slack pins.add')
        $steps.Outcome | Sort-Object -Unique | Should -Be 'Succeeded'
        ($i, $steps | Out-String) | Should -Not -Match 'CANARYpesterSl4ckB0t'
    }

    It '-WhatIf lists the Web API calls it would make and makes none' {
        $out = Invoke-InChildPwsh "New-Incident -Title 'Image optimizer down' -Severity P1 -WhatIf"
        $out | Should -Match 'conversations\.create \(as the bot\) \{"name":"incident-\d{4}-\d\d-\d\d-\d{3}","is_private":false\}'
        $out | Should -Match 'conversations\.invite \(as the bot\) \{"channel":"NEW_CHANNEL_ID","users":"U0ONCALL01,U0LEAD0002"\}'
        $out | Should -Match 'chat\.postMessage'
        $out | Should -Match 'pins\.add \(as the bot\) channel=NEW_CHANNEL_ID&timestamp=SUMMARY_TS'
        $out | Should -Not -Match 'CANARYpesterSl4ckB0t'
        $slack.Requests.Count | Should -Be 0
    }

    It 'waits out a 429 with Retry-After and still creates one channel' {
        $null = $slack.Queue.Add(@{ Method = 'conversations.create'; Status = 429; Body = '{"ok":false,"error":"ratelimited"}'; RetryAfter = '1' })
        $i = New-Incident -Title 'Rate limited' -Severity P1 -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        @(Get-SlackCall conversations.create).Count | Should -Be 2
        $slack.Channels.Count | Should -Be 1
        $i.ExternalIds['slack:warroom'] | Should -Be $slack.Channels[0].id
    }

    It 'does not create a second channel when the name is taken by someone else, and keeps the incident' {
        $today = [DateTimeOffset]::UtcNow
        $next = '{0:000}' -f (@(Get-Incident | Where-Object Id -like "INC-$($today.ToString('yyyyMMdd'))-*").Count + 1)
        $null = $slack.Channels.Add(@{ id = 'C0SOMEONE1'; name = "incident-$($today.ToString('yyyy-MM-dd'))-$next"; created = 1500000000; topic = 'the launch'; archived = $false; members = @(); pins = @(); messages = 0 })
        $i = New-Incident -Title 'Taken' -Severity P1 -WarningVariable warnings -WarningAction SilentlyContinue
        $i.Id | Should -Match "-$next$"
        "$warnings" | Should -Match 'SlackChannelNameTaken'
        "$warnings" | Should -Match 'C0SOMEONE1'
        $slack.Channels.Count | Should -Be 1
        @(Get-SlackCall chat.postMessage).Count | Should -Be 0
        (Get-Incident -Incident $i.Id).ExternalIds.ContainsKey('slack:warroom') | Should -BeFalse
        (Get-IncidentTimeline -Incident $i.Id | Where-Object Action -eq 'Slack conversations.create').Outcome | Should -Be 'Failed'
    }

    It 'a missing scope is a warning naming the scope, and Send-IncidentUpdate -Pending completes only that step' {
        $null = $slack.Queue.Add(@{ Method = 'pins.add'; Status = 200; Body = '{"ok":false,"error":"missing_scope","needed":"pins:write","provided":"channels:manage,chat:write"}' })
        $i = New-Incident -Title 'No pin scope' -Severity P1 -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -Match 'SlackMissingScope'
        "$warnings" | Should -Match 'pins:write'
        $slack.Channels[0].pins.Count | Should -Be 0
        $retried = @(Send-IncidentUpdate -Incident $i.Id -Pending)
        $retried.UpdateId | Should -Be @('slack-channel-pin')
        $retried[0].Delivered | Should -BeTrue
        $slack.Channels[0].pins.Count | Should -Be 1
        @(Get-SlackCall chat.postMessage).Count | Should -Be 1
        @(Get-SlackCall conversations.create).Count | Should -Be 1
        @(Send-IncidentUpdate -Incident $i.Id -Pending).Count | Should -Be 0
    }

    It 'a refused token is a warning naming SlackAuthFailed, never the token' {
        $env:PESTER_SLACK_BOT_TOKEN = 'xoxb-CANARYpesterSl4ckWrong'
        try { $i = New-Incident -Title 'Bad token' -Severity P1 -WarningVariable warnings -WarningAction SilentlyContinue }
        finally { $env:PESTER_SLACK_BOT_TOKEN = $token }
        $i | Should -Not -BeNullOrEmpty
        "$warnings" | Should -Match 'SlackAuthFailed'
        "$warnings" | Should -Not -Match 'CANARYpesterSl4ck'
        $slack.Channels.Count | Should -Be 0
    }
}

Describe 'Close-Incident with a Slack incident channel' {
    BeforeAll {
        Reset-Slack
        $script:open = New-Incident -Title 'To be closed' -Severity P1
    }

    It '-WhatIf shows the archive call and makes none' {
        $slack.Requests.Clear()
        $out = Invoke-InChildPwsh "Close-Incident -Incident $($open.Id) -Resolution 'Fixed' -WhatIf"
        $out | Should -Match "conversations\.archive \(as the bot\) \{`"channel`":`"$($open.ExternalIds['slack:warroom'])`"\}"
        $slack.Requests.Count | Should -Be 0
        (Get-Incident -Incident $open.Id).Status | Should -Be 'Investigating'
    }

    It 'archives the channel once and records it on the timeline' {
        $closed = Close-Incident -Incident $open.Id -Resolution 'Restarted the image worker' -Force
        $closed.Status | Should -Be 'Resolved'
        $archive = @(Get-SlackCall conversations.archive)
        $archive.Count | Should -Be 1
        $archive[0].Body | Should -BeExactly "{`"channel`":`"$($open.ExternalIds['slack:warroom'])`"}"
        $archive[0].Authorization | Should -BeExactly "Bearer $token"
        ($slack.Channels | Where-Object id -eq $open.ExternalIds['slack:warroom']).archived | Should -BeTrue
        (Get-IncidentTimeline -Incident $open.Id | Where-Object Action -eq 'Slack conversations.archive').Outcome | Should -Be 'Succeeded'
        $null = Send-IncidentUpdate -Pending
        @(Get-SlackCall conversations.archive).Count | Should -Be 1
    }
}

Describe 'Send-IncidentUpdate -Pending -Channel with two Slack bot channels' {
    BeforeAll {
        Reset-Slack
        $script:slack2 = Start-SlackWebApiStub -Token $token
        $script:two = New-TestTempDir 'io-slack2'
        $script:twoConfig = Join-Path $two 'incidentops.yml'
        Set-Content $twoConfig @"
store: { path: '$(Join-Path $two store)' }
channels:
  warroom:
    type: slack
    token: env:PESTER_SLACK_BOT_TOKEN
    url: '$($slack.Url)/api'
    incidentChannel: '#incident-{yyyy}-{MM}-{dd}-{NNN}'
  bridge:
    type: slack
    token: env:PESTER_SLACK_BOT_TOKEN
    url: '$($slack2.Url)/api'
    incidentChannel: 'bridge-{id}'
"@
        # Both creates fail (a missing scope), so both channels have their opening left to retry.
        $missing = '{"ok":false,"error":"missing_scope","needed":"channels:manage","provided":"chat:write"}'
        $null = $slack.Queue.Add(@{ Method = 'conversations.create'; Status = 200; Body = $missing })
        $null = $slack2.Queue.Add(@{ Method = 'conversations.create'; Status = 200; Body = $missing })
        $script:both = New-Incident -Title 'Two workspaces' -Severity P1 -ConfigPath $twoConfig -WarningAction SilentlyContinue
    }

    AfterAll {
        Stop-SlackWebApiStub $script:slack2
        Remove-Item -Recurse -Force $script:two -ErrorAction SilentlyContinue
    }

    It '-WhatIf lists only the named channel''s Web API calls and makes none' {
        $slack.Requests.Clear(); $slack2.Requests.Clear()
        $out = Invoke-InChildPwsh "Send-IncidentUpdate -Pending -Incident $($both.Id) -Channel bridge -ConfigPath '$twoConfig' -WhatIf"
        $out | Should -Match "conversations\.create \(as the bot\) \{`"name`":`"bridge-$($both.Id.ToLowerInvariant())`",`"is_private`":false\}"
        $out | Should -Match 'pins\.add \(as the bot\) channel=NEW_CHANNEL_ID&timestamp=SUMMARY_TS'
        $out | Should -Not -Match 'warroom|incident-\d{4}'
        $out | Should -Not -Match 'CANARYpesterSl4ck'
        $slack.Requests.Count + $slack2.Requests.Count | Should -Be 0
    }

    It 'completes the named channel only; the other workspace hears nothing' {
        $slack.Requests.Clear(); $slack2.Requests.Clear()
        $r = @(Send-IncidentUpdate -Pending -Incident $both.Id -Channel bridge -ConfigPath $twoConfig)
        $r.Channel | Sort-Object -Unique | Should -Be 'bridge'
        ($r | Where-Object UpdateId -eq 'slack-channel-create').Delivered | Should -BeTrue
        $slack2.Channels.Count | Should -Be 1
        $slack2.Channels[0].name | Should -Be "bridge-$($both.Id.ToLowerInvariant())"
        $slack.Requests.Count | Should -Be 0
        $slack.Channels.Count | Should -Be 0
    }
}
