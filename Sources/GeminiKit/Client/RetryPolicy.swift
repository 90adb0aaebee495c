import Foundation

/// When and how long to wait before trying a failed call again.
///
/// Exponential backoff with full jitter: before attempt `n` (from 2), wait a random time in
/// `0 … min(cap, base × multiplier^(n-2))`, but never less than the server asked for
/// (`RetryInfo.retryDelay` or `Retry-After`, which Google's own SDK ignores).
///
/// | attempt | longest backoff (defaults) |
/// | --- | --- |
/// | 2 | 1 s |
/// | 3 | 2 s |
/// | 4 | 4 s |
/// | 5 | 8 s |
///
/// Retried: 408, 429, 500, 502, 503, 504, timeouts and broken connections. Never retried: any
/// other 4xx (the request itself is wrong) and daily quotas (waiting minutes will not help).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var maximumAttempts: Int
    public var baseDelay: Duration
    public var multiplier: Double
    public var maximumDelay: Duration
    /// Statuses worth another try.
    public var retryableStatuses: Set<Int>

    public init(
        maximumAttempts: Int = 5, baseDelay: Duration = .seconds(1), multiplier: Double = 2, maximumDelay: Duration = .seconds(60),
        retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    ) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.retryableStatuses = retryableStatuses
    }

    /// One attempt only.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The longest backoff before `attempt` (2 or more), before jitter.
    public func backoffCeiling(beforeAttempt attempt: Int) -> Duration {
        let seconds = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) / 1e18
        let capped = min(seconds * pow(multiplier, Double(max(attempt - 2, 0))), Double(maximumDelay.components.seconds))
        return .milliseconds(Int64(capped * 1000))
    }

    /// The wait before `attempt`: full jitter over the backoff, at least what the server asked.
    /// - Parameter random: A number in 0..<1 (injected, so tests are exact).
    public func delay(beforeAttempt attempt: Int, serverDelay: Duration?, random: Double) -> Duration {
        let ceiling = backoffCeiling(beforeAttempt: attempt)
        let jittered = ceiling * random
        guard let serverDelay else { return jittered }
        return max(jittered, serverDelay)
    }
}

