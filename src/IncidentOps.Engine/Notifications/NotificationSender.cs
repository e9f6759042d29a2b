using System.Globalization;
using System.Net;
using System.Text;
using IncidentOps.Config;

namespace IncidentOps.Engine.Notifications;

/// <summary>Retry and timeout limits for deliveries.</summary>
public sealed class NotificationOptions
{
    /// <summary>
    /// The deadline of one delivery (-TimeoutSec): every attempt and every wait between attempts together, counted
    /// from the first request. No retry starts that would end past it; the update then stays pending.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxAttempts { get; init; } = 4;
    /// <summary>The longest single wait; a provider asking for more leaves the update pending instead.</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The most time spent waiting between attempts for one delivery.</summary>
    public TimeSpan MaxTotalWait { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>First back-off after a 5xx or network error (doubled each time) when the provider sent no Retry-After.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Added to another sender's in-flight deadline before a delivery looks at the provider: its answer still has to be
    /// recorded, and the store's clock is read with a round trip.
    /// </summary>
    public TimeSpan InFlightMargin { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The outcome of one delivery (all attempts). MaybeDelivered: the last attempt got no answer (a timeout or a
/// connection lost after the request left), so the provider may have received it.
/// </summary>
public sealed record DeliveryOutcome(bool Delivered, bool Permanent, int? StatusCode, int Attempts, TimeSpan Waited, string? ResponseBody, string? Error, bool MaybeDelivered = false);

/// <summary>
/// Sends provider requests over HTTP with a timeout per request and the providers' retry rules: wait and
/// retry on 429 (and Statuspage's 420) honouring Retry-After or the wait the provider puts in its body (Discord's retry_after); retry 5xx and
/// network errors only when the request is idempotent; never retry other 4xx.
/// </summary>
public sealed class NotificationSender(HttpClient http, IOperationSink sink, NotificationOptions options)
{
    /// <summary>How every undelivered update's error ends: what the user does next. A message that embeds another one drops it (it is said once).</summary>
    internal const string StaysPending = "; it stays pending: re-send with Send-IncidentUpdate -Pending.";

    private static readonly Lazy<HttpClient> Shared = new(() => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AllowAutoRedirect = false,
    }) { Timeout = Timeout.InfiniteTimeSpan });

    public static HttpClient SharedClient => Shared.Value;

    public NotificationOptions Options => options;

    /// <param name="onAttempt">Called with (attempt, true) before each request leaves, so the caller can record the
    /// attempt first, and with (attempt, false) once the provider definitely refused it.</param>
    public async Task<DeliveryOutcome> SendAsync(string channel, ChannelType type, ProviderRequest request, CancellationToken cancellationToken,
        Func<int, bool, Task>? onAttempt = null)
    {
        var progress = new SendProgress();
        try
        {
            return await SendCoreAsync(channel, type, request, progress, onAttempt, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (Ctrl+C, or the cmdlet returned early): the attempts already made are still recorded in the
            // outbox and on the timeline. A request that had left may have reached the provider (Unknown).
            return new DeliveryOutcome(false, false, null, progress.Attempts, TimeSpan.Zero, null,
                progress.MaybeDelivered
                    ? $"{type}: stopped while attempt {progress.Attempts} was in flight; the provider may have received it (see Get-Help Send-IncidentUpdate about -Pending)."
                    : $"{type}: stopped before it finished, after {progress.Attempts} attempt(s){StaysPending}",
                progress.MaybeDelivered);
        }
    }

    /// <summary>How far a send got, for the outcome of one that was stopped.</summary>
    private sealed class SendProgress
    {
        public int Attempts;
        public bool MaybeDelivered;
    }

    /// <summary>What the attempts of one delivery have seen so far (for the outcome of one that gives up).</summary>
    private sealed class AttemptHistory
    {
        public readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();
        public TimeSpan Waited;
        public int? LastStatus;
        public bool LastMaybe;
        public string? LastBody;
    }

    /// <summary>How one attempt ended: the delivery's outcome (done), or the wait before the next attempt and why.</summary>
    private readonly record struct AttemptStep(DeliveryOutcome? Done, TimeSpan Wait = default, string Why = "")
    {
        public static AttemptStep Finish(DeliveryOutcome outcome) => new(outcome);
        public static AttemptStep Retry(TimeSpan wait, string why) => new(null, wait, why);
    }

    private async Task<DeliveryOutcome> SendCoreAsync(string channel, ChannelType type, ProviderRequest request, SendProgress progress,
        Func<int, bool, Task>? onAttempt, CancellationToken cancellationToken)
    {
        var history = new AttemptHistory();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.RequestTimeout);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress.Attempts = attempt;
            AttemptStep step;
            try { step = await AttemptAsync(channel, type, request, attempt, history, progress, onAttempt, deadline.Token).ConfigureAwait(false); }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                step = await NoAnswerAsync(ex, type, request, attempt, history, progress, onAttempt, deadline.IsCancellationRequested).ConfigureAwait(false);
            }
            if (step.Done is { } done) return done;
            if (GiveUp(type, attempt, step, history) is { } gaveUp) return gaveUp;
            sink.Verbose($"{channel}: {step.Why}; waiting {step.Wait.TotalSeconds:0.###}s before attempt {attempt + 1}.");
            history.Waited += step.Wait;
            await Task.Delay(step.Wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One request: recorded (through <paramref name="onAttempt"/>) before it leaves, then judged by its answer.</summary>
    private async Task<AttemptStep> AttemptAsync(string channel, ChannelType type, ProviderRequest request, int attempt, AttemptHistory history, SendProgress progress,
        Func<int, bool, Task>? onAttempt, CancellationToken deadline)
    {
        using var message = new HttpRequestMessage(request.Method, request.Url);
        if (request.Method != HttpMethod.Get) message.Content = new StringContent(request.Body, Encoding.UTF8, request.ContentType);
        foreach (var (k, v) in request.Headers) message.Headers.TryAddWithoutValidation(k, v);
        // A fresh connection per request: HttpClient silently re-sends a request whose pooled connection
        // was reset, which would post a non-idempotent update twice and hide the attempt from our count.
        message.Headers.ConnectionClose = true;
        sink.Verbose($"{channel}: {request.Method} {request.Url} (attempt {attempt})");
        if (onAttempt is not null) await onAttempt(attempt, true).ConfigureAwait(false);
        progress.MaybeDelivered = true;
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, deadline).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(deadline).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        history.LastStatus = code;
        history.LastMaybe = progress.MaybeDelivered = false;
        history.LastBody = body;
        if (IsSuccess(type, response.StatusCode, body))
            return AttemptStep.Finish(new DeliveryOutcome(true, false, code, attempt, history.Waited, body, null));
        if (onAttempt is not null) await onAttempt(attempt, false).ConfigureAwait(false);
        return Answered(channel, type, request, attempt, history, response, code, body);
    }

    /// <summary>An answer that is not a success: a 2xx with an error, a rate limit (retried), a 5xx (retried when harmless), or a refusal.</summary>
    private AttemptStep Answered(string channel, ChannelType type, ProviderRequest request, int attempt, AttemptHistory history, HttpResponseMessage response, int code, string body)
    {
        if (code >= 200 && code < 300)
            return AttemptStep.Finish(new DeliveryOutcome(false, true, code, attempt, history.Waited, body, $"{type} answered {code} with an error: {Short(body)}"));
        if (request.RateLimitCodes.Contains(code))
        {
            var wait = RetryAfter(response) ?? ChannelProviders.For(type).RetryAfter(body) ?? Backoff(attempt);
            if (wait > options.MaxRetryWait)
                return AttemptStep.Finish(new DeliveryOutcome(false, false, code, attempt, history.Waited, body,
                    $"{type} rate limited the update ({code}) for {wait.TotalSeconds:0}s, longer than the {options.MaxRetryWait.TotalSeconds:0}s cap{StaysPending}"));
            return AttemptStep.Retry(wait, $"rate limited ({code}), Retry-After {wait.TotalSeconds:0.###}s");
        }
        if (code >= 500 && request.RetryServerErrors) return AttemptStep.Retry(Backoff(attempt), $"server error {code}");
        var permanent = code < 500;
        return AttemptStep.Finish(new DeliveryOutcome(false, permanent, code, attempt, history.Waited, body,
            permanent
                ? $"{type} refused the update with {code} {response.ReasonPhrase}: {Short(body)}. Not retried; fix the channel '{channel}' and re-send with -Pending."
                : $"{type} failed with {code} {response.ReasonPhrase}: {Short(body)}. Not retried automatically because a retry could post the update twice; it stays pending: re-send with -Pending."));
    }

    /// <summary>No answer: a timeout, or a network error (only a connection never made proves the provider did not get the request).</summary>
    private async Task<AttemptStep> NoAnswerAsync(Exception ex, ChannelType type, ProviderRequest request, int attempt, AttemptHistory history, SendProgress progress,
        Func<int, bool, Task>? onAttempt, bool deadlinePassed)
    {
        var what = ex is OperationCanceledException ? $"no answer within {options.RequestTimeout.TotalSeconds:0.###}s" : $"network error ({ex.Message})";
        history.LastStatus = null;
        var maybe = !(ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError });
        history.LastMaybe = progress.MaybeDelivered = maybe;
        if (!maybe && onAttempt is not null) await onAttempt(attempt, false).ConfigureAwait(false);
        if (deadlinePassed)
            return AttemptStep.Finish(new DeliveryOutcome(false, false, null, attempt, history.Waited, null,
                $"{type}: {what} (-TimeoutSec, all attempts together). It stays pending: re-send with Send-IncidentUpdate -Pending.", maybe));
        if (!request.RetryServerErrors)
            return AttemptStep.Finish(new DeliveryOutcome(false, false, null, attempt, history.Waited, null,
                maybe
                    ? $"{type}: {what}. The provider may have received it, so it was not retried automatically; see Get-Help Send-IncidentUpdate about -Pending."
                    : $"{type}: {what}. It stays pending: re-send with -Pending.", maybe));
        return AttemptStep.Retry(Backoff(attempt), what);
    }

    /// <summary>The outcome when another attempt would pass the deadline, the attempt limit or the total wait; null to retry.</summary>
    private DeliveryOutcome? GiveUp(ChannelType type, int attempt, AttemptStep step, AttemptHistory history)
    {
        if (history.Clock.Elapsed + step.Wait >= options.RequestTimeout)
            return new DeliveryOutcome(false, false, history.LastStatus, attempt, history.Waited, history.LastBody,
                $"{type}: gave up after {attempt} attempt(s) ({step.Why}): another attempt would pass the {options.RequestTimeout.TotalSeconds:0.###}s deadline (-TimeoutSec){StaysPending}", history.LastMaybe);
        if (attempt >= options.MaxAttempts || history.Waited + step.Wait > options.MaxTotalWait)
            return new DeliveryOutcome(false, false, history.LastStatus, attempt, history.Waited, history.LastBody,
                $"{type}: gave up after {attempt} attempt(s) ({step.Why}){StaysPending}", history.LastMaybe);
        return null;
    }

    private TimeSpan Backoff(int attempt) => TimeSpan.FromTicks(options.BackoffBase.Ticks * (1L << Math.Min(attempt - 1, 10)));

    /// <summary>Each channel's success rule comes from its provider (Teams: 202 or a body without an error; PagerDuty: status success).</summary>
    internal static bool IsSuccess(ChannelType type, HttpStatusCode status, string body) => ChannelProviders.For(type).IsSuccess((int)status, body);

    /// <summary>The standard Retry-After header (seconds or an HTTP date); a provider may also put it in its body (Discord).</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } d) return d;
            if (ra.Date is { } date) return date - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        if (response.Headers.TryGetValues("Retry-After", out var values) &&
            double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs))
            return TimeSpan.FromSeconds(secs);
        return null;
    }

    private static string Short(string? body) => string.IsNullOrWhiteSpace(body) ? "(empty body)" : SecretRedactor.Redact(body.Length > 300 ? body[..300] + "…" : body.Trim());
}
