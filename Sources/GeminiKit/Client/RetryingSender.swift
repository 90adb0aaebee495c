import Foundation

/// Sends a request through the shared rate limiter and retries it per the ``RetryPolicy``: the
/// loop every client (native and OpenAI-compatible) shares, so they classify failures alike.
struct RetryingSender: Sendable {
    var transport: any Transport
    var limiter: RateLimiter<ContinuousClock>?
    /// Per attempt.
    var timeout: Duration
    var maximumResponseSize: Int
    var retry: RetryPolicy
    var random: @Sendable () -> Double

    /// Sends `request`, retrying per the policy unless `retrying` is off (for calls that are not
    /// idempotent, such as creating a batch). `parse` runs inside the loop, so an answer cut short
    /// is retried too.
    func send<T>(
        _ request: HTTPRequestMessage, model: String, retrying: Bool = true, parse: (HTTPResponseMessage) throws -> T
    ) async throws(GeminiError) -> T {
        var attempt = 1
        while true {
            let failure: GeminiError
            do {
                let response: HTTPResponseMessage
                if let limiter {
                    response = try await limiter.withPermit { [transport, timeout, maximumResponseSize] in
                        try await transport.send(request, timeout: timeout, maximumResponseSize: maximumResponseSize)
                    }
                } else {
                    response = try await transport.send(request, timeout: timeout, maximumResponseSize: maximumResponseSize)
                }
                if response.status == 200 {
                    do { return try parse(response) } catch {
                        throw GeminiError(code: .malformedResponse, status: 200, message: "\(error)", model: model, attempts: attempt)
                    }
                }
                failure = GeminiError.from(
                    status: response.status, body: response.body, model: model, attempts: attempt, retryAfterHeader: response.header("Retry-After"))
            } catch let error as GeminiError {
                failure = error
            } catch let error as TransportError {
                switch error {
                case .timedOut: failure = GeminiError(code: .timedOut, status: nil, message: "timed out", model: model, attempts: attempt)
                case .connection(let text): failure = GeminiError(code: .transport, status: nil, message: text, model: model, attempts: attempt)
                case .responseTooLarge(let limit):
                    failure = GeminiError(code: .responseTooLarge, status: nil, message: "over \(limit) bytes", model: model, attempts: attempt)
                }
            } catch {
                if error is CancellationError {
                    throw GeminiError(code: .transport, status: nil, message: "cancelled", model: model, attempts: attempt)
                }
                failure = GeminiError(code: .transport, status: nil, message: "\(error)", model: model, attempts: attempt)
            }
            guard retrying, shouldRetry(failure), attempt < retry.maximumAttempts else { throw failure }
            var serverDelay: Duration?
            if case .quotaExhausted(_, let retryAfter, _) = failure.code { serverDelay = retryAfter }
            attempt += 1
            let delay = retry.delay(beforeAttempt: attempt, serverDelay: serverDelay, random: random())
            do { try await Task.sleep(for: delay) } catch {
                throw GeminiError(code: .transport, status: nil, message: "cancelled", model: model, attempts: attempt - 1)
            }
        }
    }

    /// Whether another attempt may succeed: capacity, timeouts, broken connections, per-minute
    /// quotas and the retryable statuses; never a bad key, a wrong request or a daily quota.
    private func shouldRetry(_ failure: GeminiError) -> Bool {
        switch failure.code {
        case .quotaExhausted(_, _, let isDaily): !isDaily
        // A 200 whose body does not parse was cut short on the way: the next attempt may arrive whole.
        case .capacity, .timedOut, .transport, .malformedResponse: true
        case .http: failure.status.map { retry.retryableStatuses.contains($0) } ?? false
        case .badAPIKey, .fileNotAvailable, .modelNotFound, .requestTooLarge, .invalidRequest, .responseTooLarge: false
        }
    }
}
