/// Spaces calls to a requests-per-minute ceiling and caps how many are in flight, for every task
/// that shares it. Generic over its clock, so tests drive time by hand.
///
/// Calls are spaced evenly (`60 s / rpm` apart) rather than released in bursts: a run at
/// `--rpm 600` starts one call every 100 ms and so sustains the ceiling without ever exceeding it.
public actor RateLimiter<C: Clock> where C.Duration == Duration {
    public let requestsPerMinute: Int?
    public let maximumInFlight: Int?
    private let clock: C
    private var nextSlot: C.Instant?
    private var inFlight = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(requestsPerMinute: Int?, maximumInFlight: Int?, clock: C) {
        self.requestsPerMinute = requestsPerMinute
        self.maximumInFlight = maximumInFlight
        self.clock = clock
    }

    /// Runs `body` once a slot and an in-flight permit are free.
    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    /// Waits for the next slot under the rate and a free in-flight permit.
    public func acquire() async throws {
        if let maximumInFlight, inFlight >= maximumInFlight {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            inFlight += 1
        }
        if let requestsPerMinute, requestsPerMinute > 0 {
            let interval = Duration.seconds(60) / requestsPerMinute
            let now = clock.now
            let slot = nextSlot.map { max($0, now) } ?? now
            nextSlot = slot.advanced(by: interval)
            if slot > now {
                do {
                    try await clock.sleep(until: slot, tolerance: nil)
                } catch {
                    release()
                    throw error
                }
            }
        }
    }

    /// Frees an in-flight permit (handed straight to the longest waiter).
    public func release() {
        if !waiting.isEmpty {
            waiting.removeFirst().resume()
        } else {
            inFlight = max(inFlight - 1, 0)
        }
    }

    public var callsInFlight: Int { inFlight }
}

extension RateLimiter where C == ContinuousClock {
    public init(requestsPerMinute: Int?, maximumInFlight: Int?) {
        self.init(requestsPerMinute: requestsPerMinute, maximumInFlight: maximumInFlight, clock: ContinuousClock())
    }
}
